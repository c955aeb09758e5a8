//! Uploaded files waiting for the user to confirm an import after its preview (导入预览). Each is
//! the upload's temporary file, kept for 30 minutes for the account and node that uploaded it
//! (at most `MAX_DRAFTS_PER_USER` each, `MAX_DRAFTS` in all; the file goes with its draft): a
//! restart forgets them and the user uploads again, which writes nothing twice because nothing
//! was written yet.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::auth::random_token;
use crate::error::AppError;
use crate::excel::upload::UploadedFile;

const KEEP_MS: i64 = 30 * 60_000;
/// At most this many drafts at once; the oldest go first.
const MAX_DRAFTS: usize = 200;
/// At most this many per account: a user's new preview replaces their oldest.
const MAX_DRAFTS_PER_USER: usize = 3;

struct Draft {
    user_id: i64,
    node: String,
    file: UploadedFile,
    at: i64,
}

#[derive(Default)]
pub struct Drafts(Mutex<HashMap<String, Draft>>);

impl Drafts {
    /// Keeps `file` for the user and node; returns the token the confirm form carries.
    pub fn put(
        &self,
        user_id: i64,
        node: &str,
        file: UploadedFile,
        now: i64,
    ) -> Result<String, AppError> {
        let token = random_token()?;
        let mut map = self
            .0
            .lock()
            .map_err(|_| AppError::Internal("drafts lock poisoned".into()))?;
        map.retain(|_, d| now - d.at < KEEP_MS);
        let oldest = |map: &HashMap<String, Draft>, mine: bool| {
            map.iter()
                .filter(|(_, d)| !mine || d.user_id == user_id)
                .min_by_key(|(_, d)| d.at)
                .map(|(k, _)| k.clone())
        };
        while map.values().filter(|d| d.user_id == user_id).count() >= MAX_DRAFTS_PER_USER {
            let Some(k) = oldest(&map, true) else { break };
            map.remove(&k);
        }
        while map.len() >= MAX_DRAFTS {
            let Some(k) = oldest(&map, false) else { break };
            map.remove(&k);
        }
        map.insert(
            token.clone(),
            Draft {
                user_id,
                node: node.to_string(),
                file,
                at: now,
            },
        );
        Ok(token)
    }

    /// Takes the file back, once, for the same user and node within its time; else `None`.
    pub fn take(
        &self,
        token: &str,
        user_id: i64,
        node: &str,
        now: i64,
    ) -> Result<Option<UploadedFile>, AppError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| AppError::Internal("drafts lock poisoned".into()))?;
        let fits = map
            .get(token)
            .is_some_and(|d| d.user_id == user_id && d.node == node && now - d.at < KEEP_MS);
        Ok(if fits {
            map.remove(token).map(|d| d.file)
        } else {
            None
        })
    }
}
