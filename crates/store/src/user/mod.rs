//! Accounts, sessions and API tokens. Secrets are stored only as hashes: the password as an
//! argon2id PHC string, session ids and tokens as SHA-256 hex (computed by the caller). The
//! second factor lives in `second_factor`.

pub mod second_factor;
pub mod strikes;

use baiqian_domain::Msg;
use baiqian_domain::org::OrgCode;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_domain::second_factor::AuthMethod;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::TreeEvent;
use crate::kernel::org_in_scope;
use crate::{Actor, Db, Result, StoreError, on_unique};

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    #[serde(skip)]
    pub password_hash: String,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
    pub disabled: bool,
    /// The roster row of a member's own account.
    pub member_id: Option<i64>,
    /// Whether the account has a confirmed second factor (an authenticator app).
    pub second_factor: bool,
}

const USER_COLUMNS: &str = "u.id, u.login, u.name, u.role, u.org_code, o.name AS org_name, o.path AS org_path, \
    u.password_hash, u.failed_attempts, u.locked_until, u.disabled, u.member_id, u.totp_confirmed_at";
const USER_FROM: &str = "FROM users u JOIN orgs o ON o.code = u.org_code";

/// `SELECT <user columns> FROM users … <rest>`.
/// Disables or enables an account inside the caller's transaction, audited; disabling ends its
/// sessions and tokens at once.
async fn set_disabled(
    conn: &mut AnyConnection,
    actor: &Actor,
    before: &User,
    disabled: bool,
    reason: Option<String>,
    now: i64,
) -> Result<User> {
    sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(disabled))
        .bind(now)
        .bind(before.id)
        .execute(&mut *conn)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(before.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(before.id)
        .execute(&mut *conn)
        .await?;
    }
    let action = if disabled { "disable" } else { "enable" };
    audited_change(conn, actor, before, action, reason, now).await
}

/// Reads an account back after a change and records the change (before and after) in the audit
/// log; returns the account as it is now.
async fn audited_change(
    conn: &mut AnyConnection,
    actor: &Actor,
    before: &User,
    action: &'static str,
    reason: Option<String>,
    now: i64,
) -> Result<User> {
    let row = sqlx::query(&user_select("WHERE u.id = $1"))
        .bind(before.id)
        .fetch_one(&mut *conn)
        .await?;
    let after = User::from_row(&row)?;
    let mut change = Change::update(
        "user",
        &after.login,
        &after.org_path,
        before.audit_json(),
        after.audit_json(),
    );
    change.action = action;
    change.reason = reason;
    audit::record(conn, actor, now, change).await?;
    Ok(after)
}

/// Disables every active account attached to a node being retired (an account must not outlive
/// its part of the tree), each audited with the retirement's reason. Returns how many.
pub(crate) async fn disable_accounts_at(
    conn: &mut AnyConnection,
    actor: &Actor,
    org_code: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    let rows = sqlx::query(&user_select("WHERE u.org_code = $1 AND u.disabled = 0"))
        .bind(org_code)
        .fetch_all(&mut *conn)
        .await?;
    let accounts = rows
        .iter()
        .map(User::from_row)
        .collect::<Result<Vec<_>>>()?;
    for before in &accounts {
        set_disabled(conn, actor, before, true, Some(reason.to_string()), now).await?;
    }
    Ok(accounts.len())
}

fn user_select(rest: &str) -> String {
    format!("SELECT {USER_COLUMNS} {USER_FROM} {rest}")
}

impl User {
    fn from_row(r: &AnyRow) -> Result<Self> {
        let role: String = r.try_get("role")?;
        Ok(Self {
            id: r.try_get("id")?,
            login: r.try_get("login")?,
            name: r.try_get("name")?,
            role: Role::parse(&role)
                .map_err(|_| StoreError::Corrupt(format!("user role {role}")))?,
            org_code: r.try_get("org_code")?,
            org_name: r.try_get("org_name")?,
            org_path: r.try_get("org_path")?,
            password_hash: r.try_get("password_hash")?,
            failed_attempts: r.try_get("failed_attempts")?,
            locked_until: r.try_get("locked_until")?,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
            member_id: r.try_get("member_id")?,
            second_factor: r.try_get::<Option<i64>, _>("totp_confirmed_at")?.is_some(),
        })
    }

    /// The subtree this account sees.
    pub fn scope(&self) -> Result<Scope> {
        let code = OrgCode::parse(&self.org_code)
            .map_err(|_| StoreError::Corrupt(format!("user org {}", self.org_code)))?;
        Ok(Scope::new(code, &self.org_path))
    }

    pub fn actor(&self) -> Result<Actor> {
        Ok(Actor {
            user_id: Some(self.id),
            login: self.login.clone(),
            role: self.role,
            scope: self.scope()?,
        })
    }

    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    fn audit_json(&self) -> serde_json::Value {
        json!({ "login": self.login, "name": self.name, "role": self.role, "org_code": self.org_code,
                "disabled": self.disabled, "locked_until": self.locked_until,
                "second_factor": self.second_factor })
    }
}

/// A live browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub auth_method: AuthMethod,
}

async fn insert_session(
    conn: &mut AnyConnection,
    user_id: i64,
    id_hash: &str,
    csrf: &str,
    method: AuthMethod,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, auth_method) VALUES ($1, $2, $3, $4, $4, $5)")
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(method.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub org_code: OrgCode,
    pub password_hash: String,
}

impl Db {
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let row = sqlx::query(&user_select("WHERE u.login = $1"))
            .bind(login)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    /// An account whose node lies in `scope`.
    pub async fn user_in_scope(&self, scope: &Scope, id: i64) -> Result<User> {
        let row = sqlx::query(&user_select(
            "WHERE u.id = $1 AND o.path >= $2 AND o.path < $3",
        ))
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(User::from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn users_in_scope(
        &self,
        scope: &Scope,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<User>> {
        let rows = sqlx::query(&user_select(
            "WHERE o.path >= $1 AND o.path < $2 ORDER BY o.path, u.login LIMIT $3 OFFSET $4",
        ))
        .bind(scope.lower())
        .bind(scope.upper())
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(User::from_row).collect()
    }

    /// Creates an account on a node in the actor's scope, with a role the actor may grant.
    pub async fn create_user(&self, actor: &Actor, new: NewUser, now: i64) -> Result<User> {
        if !actor.role.may_manage_accounts() || !actor.role.may_grant(new.role) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        let org = match org_in_scope(tx.conn(), &actor.scope, &new.org_code).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                return Err(StoreError::Invalid(
                    Msg::new("user.error.org_not_found").arg("code", &new.org_code),
                ));
            }
            Err(e) => return Err(e),
        };
        if org.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        if !new.role.fits_level(org.level) {
            return Err(StoreError::Invalid(
                Msg::new("user.error.role_level")
                    .arg("role", new.role.as_str())
                    .arg("level", org.level),
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO users (login, name, role, org_code, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&new.login)
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(new.org_code.as_str())
        .bind(&new.password_hash)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| on_unique(e, Msg::new("user.error.login_taken").arg("login", &new.login)))?
        .try_get(0)?;
        let row = sqlx::query(&user_select("WHERE u.id = $1"))
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        let user = User::from_row(&row)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create("user", &user.login, &user.org_path, user.audit_json()),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Disables or enables an account in scope. Disabling ends its sessions and tokens at once.
    pub async fn set_user_disabled(
        &self,
        actor: &Actor,
        id: i64,
        disabled: bool,
        now: i64,
    ) -> Result<User> {
        let before = self.user_in_scope(&actor.scope, id).await?;
        if !actor.role.may_manage_accounts()
            || !actor.role.may_grant(before.role)
            || actor.user_id == Some(id)
        {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        let after = set_disabled(tx.conn(), actor, &before, disabled, None, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Clears a lockout by an admin in scope.
    pub async fn unlock_user(&self, actor: &Actor, id: i64, now: i64) -> Result<User> {
        let before = self.user_in_scope(&actor.scope, id).await?;
        if !actor.role.may_manage_accounts() || !actor.role.may_grant(before.role) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let after = audited_change(tx.conn(), actor, &before, "unlock", None, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Counts a failed password. `locked` is the address the web layer's throttle has just
    /// locked this account for, and until when: the lock holds for that address only (so that
    /// nobody can lock an account's owner out from elsewhere), and it is audited here.
    pub async fn record_failed_login(
        &self,
        user: &User,
        locked: Option<(&str, i64)>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let failed: i64 = sqlx::query("UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts")
            .bind(user.id)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        if let Some((address, until)) = locked {
            let system = Actor {
                user_id: None,
                login: "system".into(),
                role: user.role,
                scope: Scope::everything(),
            };
            let mut change = Change::update(
                "user",
                &user.login,
                &user.org_path,
                json!({ "locked_for": null }),
                json!({ "locked_for": address, "locked_until": until }),
            );
            change.action = "lock";
            change.reason = Some(format!("{failed} failed logins, the last from {address}"));
            audit::record(tx.conn(), &system, now, change).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A right password: clears failures and creates a new session (the id is new at every
    /// login), authenticated by the password alone.
    pub async fn start_session(
        &self,
        user_id: i64,
        id_hash: &str,
        csrf: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        insert_session(tx.conn(), user_id, id_hash, csrf, AuthMethod::Password, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A second factor given: the session `old_hash` ends and `new_hash` begins with `method`
    /// (a new id whenever what the session may do grows, as at login).
    pub async fn raise_session(
        &self,
        user_id: i64,
        old_hash: &str,
        new_hash: &str,
        csrf: &str,
        method: AuthMethod,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
            .bind(old_hash)
            .bind(user_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if ended != 1 {
            return Err(StoreError::NotFound);
        }
        insert_session(tx.conn(), user_id, new_hash, csrf, method, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account, CSRF token and authentication of a live session, touching it; `None` when
    /// absent, idle longer than `idle_ms`, or the account is disabled (the session is then
    /// removed).
    pub async fn session_user(
        &self,
        id_hash: &str,
        idle_ms: i64,
        now: i64,
    ) -> Result<Option<Session>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf AS csrf, s.last_seen_at AS last_seen_at, s.auth_method AS auth_method {USER_FROM} \
             JOIN sessions s ON s.user_id = u.id WHERE s.id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(meta) = row else { return Ok(None) };
        let user = User::from_row(&meta)?;
        let last_seen: i64 = meta.try_get("last_seen_at")?;
        if user.disabled || now - last_seen > idle_ms {
            self.end_session(id_hash).await?;
            return Ok(None);
        }
        // Touch at most once a minute: an idle clock needs no finer grain, and reads stay reads.
        if now - last_seen > 60_000 {
            let mut tx = self.write().await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(id_hash)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        }
        let method: String = meta.try_get("auth_method")?;
        Ok(Some(Session {
            user,
            csrf: meta.try_get("csrf")?,
            auth_method: AuthMethod::parse(&method)
                .ok_or_else(|| StoreError::Corrupt(format!("session auth method {method}")))?,
        }))
    }

    pub async fn end_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links an account to a member's roster row (both in the actor's scope); audited.
    pub async fn link_user_member(
        &self,
        actor: &Actor,
        user_id: i64,
        member_id: i64,
        now: i64,
    ) -> Result<()> {
        let user = self.user_in_scope(&actor.scope, user_id).await?;
        self.member(&actor.scope, member_id).await?;
        if !actor.role.may_manage_accounts() || user.role != Role::Member {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET member_id = $1, updated_at = $2 WHERE id = $3")
            .bind(member_id)
            .bind(now)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        let change = Change::update(
            "user",
            &user.login,
            &user.org_path,
            json!({ "member_id": user.member_id }),
            json!({ "member_id": member_id }),
        );
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new API token for an account (the CLI's `token issue`); audited.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        user: &User,
        token_hash: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user.id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        let mut change = Change::create(
            "api_token",
            &user.login,
            &user.org_path,
            json!({ "login": user.login, "created_at": now }),
        );
        change.action = "issue_token";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active account behind a bearer token.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let row = sqlx::query(&user_select("JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0"))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(User::from_row).transpose()
    }
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        match *event {
            // Access through a node ends with it.
            TreeEvent::Retired { node, reason } => {
                disable_accounts_at(conn, actor, node.code.as_str(), reason, now)
                    .await
                    .map(drop)
            }
            _ => Ok(()),
        }
    })
}
