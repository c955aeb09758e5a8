//! An account's second factor: the authenticator app's secret (sealed by the caller with the data
//! key), the last code's step, and one-time recovery codes (stored as SHA-256 hashes, computed by
//! the caller). Enabling, resetting and every recovery code used are audited.

use baiqian_domain::Msg;
use sqlx::Row;

use super::{User, audited_change, user_select};
use crate::{Actor, Db, Result, StoreError};

/// What is stored of an account's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// The sealed secret; set while being set up and once confirmed.
    pub sealed_secret: Option<String>,
    pub confirmed_at: Option<i64>,
    /// The step of the last code taken: no code of this step or before is taken again.
    pub last_step: i64,
}

impl Db {
    pub async fn totp_record(&self, user_id: i64) -> Result<TotpRecord> {
        let row = sqlx::query(
            "SELECT totp_secret_sealed, totp_confirmed_at, totp_last_step FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(TotpRecord {
            sealed_secret: row.try_get("totp_secret_sealed")?,
            confirmed_at: row.try_get("totp_confirmed_at")?,
            last_step: row.try_get("totp_last_step")?,
        })
    }

    /// Keeps a secret being set up (not yet confirmed by a code). Refused once one is confirmed:
    /// replacing it takes the operator's reset.
    pub async fn begin_second_factor(&self, user_id: i64, sealed: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let set = sqlx::query(
            "UPDATE users SET totp_secret_sealed = $1 WHERE id = $2 AND totp_confirmed_at IS NULL",
        )
        .bind(sealed)
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if set != 1 {
            return Err(StoreError::Conflict(Msg::new(
                "second_factor.error.already_on",
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The secret being set up proved by a code of `step`: the second factor is on, with
    /// `recovery_hashes` as its recovery codes (any earlier ones are gone); audited.
    pub async fn confirm_second_factor(
        &self,
        actor: &Actor,
        user: &User,
        step: i64,
        recovery_hashes: &[String],
        now: i64,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let set = sqlx::query(
            "UPDATE users SET totp_confirmed_at = $1, totp_last_step = $2, updated_at = $1 \
             WHERE id = $3 AND totp_confirmed_at IS NULL AND totp_secret_sealed IS NOT NULL",
        )
        .bind(now)
        .bind(step)
        .bind(user.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if set != 1 {
            return Err(StoreError::Conflict(Msg::new(
                "second_factor.error.already_on",
            )));
        }
        store_recovery_codes(tx.conn(), user.id, recovery_hashes, now).await?;
        let after =
            audited_change(tx.conn(), actor, user, "enable_second_factor", None, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Takes a code of `step` for the account: true when it is later than every code taken
    /// before (a code is used once, even by two requests at the same moment).
    pub async fn take_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let taken = sqlx::query(
            "UPDATE users SET totp_last_step = $1 \
             WHERE id = $2 AND totp_last_step < $1 AND totp_confirmed_at IS NOT NULL",
        )
        .bind(step)
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// Uses one recovery code, audited: `Some(codes left)`, or `None` when it is not one of the
    /// account's unused codes.
    pub async fn use_recovery_code(
        &self,
        actor: &Actor,
        user: &User,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user.id)
        .bind(code_hash)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if used != 1 {
            return Ok(None);
        }
        let left = unused_codes(tx.conn(), user.id).await?;
        let mut change = crate::audit::Change::update(
            "user",
            &user.login,
            &user.org_path,
            serde_json::json!({ "recovery_codes_left": left + 1 }),
            serde_json::json!({ "recovery_codes_left": left }),
        );
        change.action = "use_recovery_code";
        crate::audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(Some(left))
    }

    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        let mut conn = self.pool().acquire().await?;
        unused_codes(&mut conn, user_id).await
    }

    /// New recovery codes for an account whose second factor is on; the old ones stop working.
    pub async fn replace_recovery_codes(
        &self,
        actor: &Actor,
        user: &User,
        recovery_hashes: &[String],
        now: i64,
    ) -> Result<()> {
        if !user.second_factor {
            return Err(StoreError::Conflict(Msg::new("second_factor.error.off")));
        }
        let mut tx = self.write().await?;
        let before = unused_codes(tx.conn(), user.id).await?;
        store_recovery_codes(tx.conn(), user.id, recovery_hashes, now).await?;
        let mut change = crate::audit::Change::update(
            "user",
            &user.login,
            &user.org_path,
            serde_json::json!({ "recovery_codes_left": before }),
            serde_json::json!({ "recovery_codes_left": recovery_hashes.len() }),
        );
        change.action = "replace_recovery_codes";
        crate::audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The operator's reset (a lost phone and no recovery code left): the second factor and its
    /// recovery codes are gone and the account's sessions end; the account sets one up again at
    /// its next sign-in. Audited with the reason.
    pub async fn reset_second_factor(
        &self,
        actor: &Actor,
        login: &str,
        reason: &str,
        now: i64,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let row = sqlx::query(&user_select("WHERE u.login = $1"))
            .bind(login)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        let before = User::from_row(&row)?;
        sqlx::query(
            "UPDATE users SET totp_secret_sealed = NULL, totp_confirmed_at = NULL, \
             totp_last_step = 0, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(before.id)
        .execute(tx.conn())
        .await?;
        for sql in [
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(before.id).execute(tx.conn()).await?;
        }
        let after = audited_change(
            tx.conn(),
            actor,
            &before,
            "reset_second_factor",
            Some(reason.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

async fn store_recovery_codes(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    hashes: &[String],
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn unused_codes(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(conn)
            .await?
            .try_get(0)?,
    )
}
