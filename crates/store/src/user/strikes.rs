//! Failed logins counted in the database (登录限流), so every app node sees what another counted:
//! an address that failed too often is refused for a while at every node, and an account is
//! locked for the address that failed on it (an attacker elsewhere cannot lock its owner out).
//! A count lives for its window; `forget_login_strikes` removes the expired.

use std::collections::HashSet;

use sqlx::Row;

use crate::{Db, Result};

/// What a failure counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrikeKey<'a> {
    /// An address, whatever account it tried.
    Address(&'a str),
    /// One account from one address.
    Pair { login: &'a str, address: &'a str },
}

impl StrikeKey<'_> {
    fn parts(&self) -> (&'static str, &str, &str) {
        match self {
            StrikeKey::Address(a) => ("address", "", a),
            StrikeKey::Pair { login, address } => ("pair", login, address),
        }
    }
}

/// How failures are counted.
#[derive(Debug, Clone, Copy)]
pub struct StrikeRule {
    /// Failures of one account from one address that lock that pair.
    pub pair_max: u32,
    /// Failures from one address, any account.
    pub address_max: u32,
    /// How long failures are counted, and a lock lasts.
    pub window_ms: i64,
}

impl Db {
    /// Milliseconds until `key` may try again, if it is blocked at `now`.
    pub async fn login_blocked(&self, key: StrikeKey<'_>, now: i64) -> Result<Option<i64>> {
        let (kind, login, address) = key.parts();
        let until: Option<i64> = sqlx::query(
            "SELECT blocked_until FROM login_strikes WHERE kind = $1 AND login = $2 AND address = $3",
        )
        .bind(kind)
        .bind(login)
        .bind(address)
        .fetch_optional(self.pool())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        Ok(until.filter(|u| *u > now).map(|u| u - now))
    }

    /// Counts a failure of `login` from `address` against the address and the pair, in one
    /// transaction; true when this failure locked the pair. A failure while blocked does not
    /// lengthen the block; a count older than the window starts again.
    pub async fn strike_login(
        &self,
        login: &str,
        address: &str,
        rule: StrikeRule,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let mut locked_pair = false;
        for (key, max) in [
            (StrikeKey::Address(address), rule.address_max),
            (StrikeKey::Pair { login, address }, rule.pair_max),
        ] {
            let (kind, login, address) = key.parts();
            let row = sqlx::query(
                "INSERT INTO login_strikes (kind, login, address, count, since, blocked_until) \
                 VALUES ($1, $2, $3, 1, $4, 0) ON CONFLICT (kind, login, address) DO UPDATE SET \
                 count = CASE WHEN login_strikes.blocked_until > $4 THEN login_strikes.count \
                              WHEN login_strikes.since + $5 <= $4 THEN 1 \
                              ELSE login_strikes.count + 1 END, \
                 since = CASE WHEN login_strikes.blocked_until > $4 THEN login_strikes.since \
                              WHEN login_strikes.since + $5 <= $4 THEN $4 \
                              ELSE login_strikes.since END \
                 RETURNING count, blocked_until",
            )
            .bind(kind)
            .bind(login)
            .bind(address)
            .bind(now)
            .bind(rule.window_ms)
            .fetch_one(tx.conn())
            .await?;
            let count: i64 = row.try_get(0)?;
            let blocked_until: i64 = row.try_get(1)?;
            if blocked_until <= now && count >= i64::from(max) {
                sqlx::query(
                    "UPDATE login_strikes SET count = 0, since = $1, blocked_until = $2 \
                     WHERE kind = $3 AND login = $4 AND address = $5",
                )
                .bind(now)
                .bind(now + rule.window_ms)
                .bind(kind)
                .bind(login)
                .bind(address)
                .execute(tx.conn())
                .await?;
                locked_pair = kind == "pair";
            }
        }
        tx.commit().await?;
        Ok(locked_pair)
    }

    /// A successful login clears the pair's failures (not the address's).
    pub async fn clear_login_strikes(&self, login: &str, address: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM login_strikes WHERE kind = 'pair' AND login = $1 AND address = $2",
        )
        .bind(login)
        .bind(address)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The logins locked at some address now (the accounts page offers their unlock).
    pub async fn locked_logins(&self, now: i64) -> Result<HashSet<String>> {
        sqlx::query(
            "SELECT DISTINCT login FROM login_strikes WHERE kind = 'pair' AND blocked_until > $1",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    /// An administrator's unlock: the account's locks at every address end.
    pub async fn unlock_login(&self, login: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM login_strikes WHERE kind = 'pair' AND login = $1")
            .bind(login)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the counts whose window and block have both ended: the table holds only what
    /// still counts (each row cost a failed password check, which the login guard bounds).
    pub async fn forget_login_strikes(&self, now: i64, window_ms: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let n =
            sqlx::query("DELETE FROM login_strikes WHERE blocked_until <= $1 AND since + $2 <= $1")
                .bind(now)
                .bind(window_ms)
                .execute(tx.conn())
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
