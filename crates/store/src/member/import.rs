//! A roster import (党员名册导入) of any size, fed in batches as the file is read: one
//! transaction for the whole file, so a rejected file, a failure or a server stopped half way
//! writes nothing; multi-row statements, so a province's roster goes in at the speed of the
//! bulk path. Every member is checked here again whatever the caller checked: the organization
//! in the actor's scope and not retired, the ID number on no member yet and not twice in the file.

use std::collections::{BTreeMap, HashMap};

use baiqian_domain::Msg;
use baiqian_domain::member::{Phone, card_no};
use serde_json::json;
use sqlx::Row;

use super::{NewMember, denied};
use crate::bulk;
use crate::import::{ImportError, ImportMode, ImportOutcome};
use crate::kernel::org_path;
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError, WriteTx, on_unique};

/// An organization as the import checks it, looked up once per file.
struct OrgSeen {
    path: String,
    usable: bool,
}

/// An import under way: the open transaction and what it has written so far.
pub struct MemberImport<'v> {
    tx: WriteTx,
    vault: &'v Vault,
    actor: Actor,
    now: i64,
    orgs: HashMap<String, OrgSeen>,
    /// ID-number hash → the row it was first seen on.
    seen: HashMap<String, usize>,
    per_org: BTreeMap<String, i64>,
    created: usize,
    errors: Vec<ImportError>,
    /// PostgreSQL's pool, to refresh the planner's statistics after a large import.
    pg: Option<sqlx::PgPool>,
}

/// Members imported at once past which PostgreSQL's statistics are refreshed: a roster grown
/// from nothing to a million otherwise reads with plans made for an empty table until
/// autovacuum comes round.
const ANALYZE_AFTER: usize = 50_000;

impl Db {
    /// Opens an import for `actor`; feed it with [`MemberImport::add`], end it with
    /// [`MemberImport::finish`]. Dropping it writes nothing.
    pub async fn begin_member_import<'v>(
        &self,
        actor: &Actor,
        vault: &'v Vault,
        now: i64,
    ) -> Result<MemberImport<'v>> {
        if !actor.role.may_manage_members() {
            return Err(denied());
        }
        Ok(MemberImport {
            tx: self.write().await?,
            vault,
            actor: actor.clone(),
            now,
            orgs: HashMap::new(),
            seen: HashMap::new(),
            per_org: BTreeMap::new(),
            created: 0,
            errors: Vec::new(),
            pg: self.pg_typed().cloned(),
        })
    }

    /// Imports parsed members into the actor's scope in one go. Rows that failed parsing come in
    /// `errors`; in `AllOrNothing` mode any error writes nothing.
    pub async fn import_members(
        &self,
        actor: &Actor,
        vault: &Vault,
        rows: Vec<(usize, NewMember)>,
        errors: Vec<ImportError>,
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        let mut import = self.begin_member_import(actor, vault, now).await?;
        import.reject(errors);
        for chunk in rows.chunks(IMPORT_BATCH) {
            import.add(chunk.to_vec()).await?;
        }
        import.finish(mode).await
    }
}

/// Rows one call of [`MemberImport::add`] is best fed with.
pub const IMPORT_BATCH: usize = 1000;

/// Columns of one member row, of its card row and of its audit row.
const MEMBER_WIDTH: usize = 15;
const CARD_WIDTH: usize = 2;
const AUDIT_WIDTH: usize = 6;

impl MemberImport<'_> {
    /// Records rows the caller found bad before they got here.
    pub fn reject(&mut self, errors: Vec<ImportError>) {
        self.errors.extend(errors);
    }

    /// Members created so far.
    pub fn created(&self) -> usize {
        self.created
    }

    /// Bad rows so far.
    pub fn error_count(&self) -> usize {
        self.errors.len()
    }

    /// Checks and writes one batch of parsed rows; bad ones are kept as errors.
    pub async fn add(&mut self, rows: Vec<(usize, NewMember)>) -> Result<()> {
        self.learn_orgs(&rows).await?;
        let hashed: Vec<(usize, NewMember, String)> = rows
            .into_iter()
            .map(|(row, m)| {
                let h = self.vault.hash(m.id_number.as_str());
                (row, m, h)
            })
            .collect();
        let taken = self.taken(&hashed).await?;
        let mut good = Vec::with_capacity(hashed.len());
        for (row, m, h) in hashed {
            let org = self.orgs.get(m.home_org.as_str());
            let err = match org {
                None => Some((
                    "home_org",
                    Msg::new("org.error.parent_not_found").arg("code", m.home_org.as_str()),
                )),
                Some(o) if !o.usable => Some(("home_org", Msg::new("org.error.retired"))),
                Some(_) => None,
            };
            let err = err.or_else(|| match self.seen.get(&h) {
                Some(first) => Some((
                    "id_number",
                    Msg::new("import.error.duplicate_id").arg("row", first),
                )),
                // The number may belong to a member outside the caller's scope: the message does not say.
                None if taken.contains(&h) => {
                    Some(("id_number", Msg::new("member.error.id_taken")))
                }
                None => None,
            });
            match err {
                Some((column, msg)) => self.errors.push(ImportError { row, column, msg }),
                None => {
                    self.seen.insert(h.clone(), row);
                    good.push((m, h));
                }
            }
        }
        for chunk in good.chunks(bulk::rows_per_statement(MEMBER_WIDTH)) {
            self.insert(chunk).await?;
        }
        Ok(())
    }

    /// Ends the import: commits unless the file is rejected (`AllOrNothing` with any error).
    pub async fn finish(mut self, mode: ImportMode) -> Result<ImportOutcome> {
        let mut out = ImportOutcome::default();
        self.errors.sort_by_key(|e| e.row);
        if !self.errors.is_empty() && mode == ImportMode::AllOrNothing {
            out.errors = self.errors;
            return Ok(out);
        }
        // The counts of every node above the new members, one statement per node.
        let mut per_node: BTreeMap<String, i64> = BTreeMap::new();
        for (code, n) in &self.per_org {
            let path = match self.orgs.get(code) {
                Some(o) => o.path.clone(),
                None => org_path(self.tx.conn(), code).await?,
            };
            for c in path.trim_matches('/').split('/').filter(|c| !c.is_empty()) {
                *per_node.entry(c.to_string()).or_default() += n;
            }
        }
        for (code, n) in per_node {
            sqlx::query("UPDATE orgs SET member_count = member_count + $1 WHERE code = $2")
                .bind(n)
                .bind(code)
                .execute(self.tx.conn())
                .await?;
        }
        self.tx.commit().await?;
        if let Some(pg) = &self.pg
            && self.created >= ANALYZE_AFTER
        {
            sqlx::query("ANALYZE members, member_cards, orgs")
                .execute(pg)
                .await?;
        }
        out.created = self.created;
        out.committed = self.created > 0;
        out.errors = self.errors;
        Ok(out)
    }

    /// Looks up, once each, the organizations a batch names: known only when in the actor's scope.
    async fn learn_orgs(&mut self, rows: &[(usize, NewMember)]) -> Result<()> {
        let mut new: Vec<String> = rows
            .iter()
            .map(|(_, m)| m.home_org.as_str().to_string())
            .filter(|c| !self.orgs.contains_key(c))
            .collect();
        new.sort();
        new.dedup();
        for chunk in new.chunks(bulk::IN_LIST) {
            let sql = format!(
                "SELECT code, path, retired_at FROM orgs WHERE code IN ({}) AND path >= $1 AND path < $2",
                bulk::list(3, chunk.len())
            );
            let mut q = sqlx::query(&sql)
                .bind(self.actor.scope.lower())
                .bind(self.actor.scope.upper());
            for c in chunk {
                q = q.bind(c.as_str());
            }
            for r in q.fetch_all(self.tx.conn()).await? {
                let retired: Option<i64> = r.try_get("retired_at")?;
                self.orgs.insert(
                    r.try_get("code")?,
                    OrgSeen {
                        path: r.try_get("path")?,
                        usable: retired.is_none(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Which of a batch's ID numbers (by hash) are already on a member.
    async fn taken(
        &mut self,
        rows: &[(usize, NewMember, String)],
    ) -> Result<std::collections::HashSet<String>> {
        let mut taken = std::collections::HashSet::new();
        for chunk in rows.chunks(bulk::IN_LIST) {
            let sql = format!(
                "SELECT id_hash FROM members WHERE id_hash IN ({})",
                bulk::list(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for (_, _, h) in chunk {
                q = q.bind(h.as_str());
            }
            for r in q.fetch_all(self.tx.conn()).await? {
                taken.insert(r.try_get::<String, _>(0)?);
            }
        }
        Ok(taken)
    }

    /// Writes checked members with their cards and one audit row each.
    async fn insert(&mut self, chunk: &[(NewMember, String)]) -> Result<()> {
        let seal = |v: &str| {
            self.vault
                .seal(v)
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        let sql = format!(
            "INSERT INTO members (name, gender, birth_date, id_hash, id_sealed, id_masked, phone_sealed, phone_masked, home_org, \
             workplace, joined, mobile, mobile_where, status, created_at, updated_at, confirmed) VALUES {} RETURNING id, id_hash",
            bulk::values(
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'active', ?14, ?14, ?15)",
                MEMBER_WIDTH,
                chunk.len(),
                1
            )
        );
        let mut q = sqlx::query(&sql);
        for (m, h) in chunk {
            q = q
                .bind(m.name.clone())
                .bind(m.gender.as_str())
                .bind(m.birth_date.clone())
                .bind(h.clone())
                .bind(seal(m.id_number.as_str())?)
                .bind(m.id_number.masked())
                .bind(m.phone.as_ref().map(|p| seal(p.as_str())).transpose()?)
                .bind(m.phone.as_ref().map(Phone::masked))
                .bind(m.home_org.as_str().to_string())
                .bind(m.workplace.clone())
                .bind(m.joined.clone())
                .bind(i64::from(m.mobile))
                .bind(m.mobile_where.clone())
                .bind(self.now)
                .bind(m.confirmed.clone());
        }
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(chunk.len());
        for r in q
            .fetch_all(self.tx.conn())
            .await
            .map_err(|e| on_unique(e, Msg::new("member.error.id_taken")))?
        {
            ids.insert(r.try_get("id_hash")?, r.try_get("id")?);
        }
        let mut with_ids = Vec::with_capacity(chunk.len());
        for (m, h) in chunk {
            let id = *ids.get(h).ok_or_else(|| {
                StoreError::Corrupt("an inserted member came back without its id".into())
            })?;
            with_ids.push((m, id));
        }
        for part in with_ids.chunks(bulk::rows_per_statement(CARD_WIDTH)) {
            let sql = format!(
                "INSERT INTO member_cards (card_no, member_id, status, issued_at) VALUES {}",
                bulk::values("(?1, ?2, 'active', $1)", CARD_WIDTH, part.len(), 2)
            );
            let mut q = sqlx::query(&sql).bind(self.now);
            for (m, id) in part {
                q = q.bind(card_no(m.home_org.as_str(), *id, 1)).bind(*id);
            }
            q.execute(self.tx.conn()).await?;
        }
        // Each member's audit row, linked into the chain in the order written.
        let (mut seq, mut prev) = crate::audit::chain::head(self.tx.conn()).await?;
        for part in with_ids.chunks(bulk::rows_per_statement(AUDIT_WIDTH)) {
            let sql = format!(
                "INSERT INTO audit_log (at, actor_id, actor_login, actor_role, action, entity, \
                 entity_key, org_path, before_json, after_json, reason, seq, prev_hash, row_hash) \
                 VALUES {}",
                bulk::values(
                    "($1, $2, $3, $4, 'create', 'member', ?1, ?2, NULL, ?3, NULL, ?4, ?5, ?6)",
                    AUDIT_WIDTH,
                    part.len(),
                    5
                )
            );
            let mut q = sqlx::query(&sql)
                .bind(self.now)
                .bind(self.actor.user_id)
                .bind(self.actor.login.clone())
                .bind(self.actor.role.as_str());
            for (m, id) in part {
                let path = self
                    .orgs
                    .get(m.home_org.as_str())
                    .map(|o| o.path.clone())
                    .unwrap_or_default();
                let (key, after) = (id.to_string(), audit_after(m).to_string());
                seq += 1;
                let hash = crate::audit::chain::row_hash(
                    seq,
                    &prev,
                    &crate::audit::chain::Fields {
                        at: self.now,
                        actor_id: self.actor.user_id,
                        actor_login: &self.actor.login,
                        actor_role: self.actor.role.as_str(),
                        action: "create",
                        entity: "member",
                        entity_key: &key,
                        org_path: &path,
                        before_json: None,
                        after_json: Some(&after),
                        reason: None,
                    },
                );
                q = q
                    .bind(key)
                    .bind(path)
                    .bind(after)
                    .bind(seq)
                    .bind(std::mem::replace(&mut prev, hash.clone()))
                    .bind(hash);
            }
            q.execute(self.tx.conn()).await?;
        }
        crate::audit::chain::set_head(self.tx.conn(), seq, &prev).await?;
        for (m, _) in &with_ids {
            *self
                .per_org
                .entry(m.home_org.as_str().to_string())
                .or_default() += 1;
        }
        self.created += with_ids.len();
        Ok(())
    }
}

/// What the audit log keeps of a new member: the same fields as a member created by hand, never
/// the whole ID number or phone.
fn audit_after(m: &NewMember) -> serde_json::Value {
    json!({ "name": m.name, "gender": m.gender.as_str(), "birth_date": m.birth_date, "id": m.id_number.masked(),
            "phone": m.phone.as_ref().map(Phone::masked), "home_org": m.home_org.as_str(), "workplace": m.workplace,
            "joined": m.joined, "confirmed": m.confirmed, "mobile": m.mobile, "mobile_where": m.mobile_where, "status": "active" })
}
