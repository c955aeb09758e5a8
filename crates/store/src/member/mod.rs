//! The member roster (党员名册): members in the caller's scope, their sealed personal data,
//! transfers of their home organization (组织关系转接) kept as history, their cards.

mod import;
mod record;
pub use import::{IMPORT_BATCH, MemberImport};
pub use record::{MemberEdit, RosterPart, StatusChange};

use baiqian_domain::Msg;
use baiqian_domain::member::{Gender, IdNumber, Phone};
use baiqian_domain::org::OrgCode;
use baiqian_domain::scope::Scope;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::bulk;
use crate::kernel::{bump_member_counts, org_in_scope, org_path};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError, like_escape, on_unique};
use baiqian_domain::member::card_no;

/// A member as lists and pages show them: personal data masked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_masked: String,
    pub phone_masked: Option<String>,
    pub home_org: String,
    pub home_org_name: String,
    pub workplace: Option<String>,
    pub joined: String,
    pub mobile: bool,
    pub mobile_where: Option<String>,
    pub status: String,
    pub card_no: Option<String>,
    /// When the member became a full member (转正), as written: `YYYY-MM-DD` or `YYYY-MM`.
    pub confirmed: Option<String>,
}

const MEMBER_COLUMNS: &str = "m.id, m.name, m.gender, m.birth_date, m.id_masked, m.phone_masked, m.home_org, \
    o.name AS home_org_name, m.workplace, m.joined, m.mobile, m.mobile_where, m.status, \
    (SELECT c.card_no FROM member_cards c WHERE c.member_id = m.id AND c.status = 'active') AS card_no, m.confirmed";
const MEMBER_FROM: &str = "FROM members m JOIN orgs o ON o.code = m.home_org";

impl Member {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            gender: r.try_get("gender")?,
            birth_date: r.try_get("birth_date")?,
            id_masked: r.try_get("id_masked")?,
            phone_masked: r.try_get("phone_masked")?,
            home_org: r.try_get("home_org")?,
            home_org_name: r.try_get("home_org_name")?,
            workplace: r.try_get("workplace")?,
            joined: r.try_get("joined")?,
            mobile: r.try_get::<i64, _>("mobile")? != 0,
            mobile_where: r.try_get("mobile_where")?,
            status: r.try_get("status")?,
            card_no: r.try_get("card_no")?,
            confirmed: r.try_get("confirmed")?,
        })
    }

    /// What the audit log keeps: never the whole ID number or phone.
    fn audit_json(&self) -> serde_json::Value {
        json!({ "name": self.name, "gender": self.gender, "birth_date": self.birth_date, "id": self.id_masked,
                "phone": self.phone_masked, "home_org": self.home_org, "workplace": self.workplace,
                "joined": self.joined, "confirmed": self.confirmed, "mobile": self.mobile, "mobile_where": self.mobile_where, "status": self.status })
    }
}

/// A new member, every field already parsed and checked for consistency.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub gender: Gender,
    pub birth_date: String,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub home_org: OrgCode,
    pub joined: String,
    /// 转正日期, kept to the precision written; `None` for a probationary member or one not recorded.
    pub confirmed: Option<String>,
    pub workplace: Option<String>,
    pub mobile: bool,
    pub mobile_where: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    pub from_org: String,
    pub from_name: String,
    pub to_org: String,
    pub to_name: String,
    pub reason: String,
    pub at: i64,
    pub actor_login: String,
}

/// The whole personal data of one member, for those whose role may see it.
#[derive(Debug, Clone)]
pub struct Revealed {
    pub id_number: String,
    pub phone: Option<String>,
}

fn denied() -> StoreError {
    StoreError::Denied(Msg::new("error.denied"))
}

impl Db {
    /// Adds a member with a card; returns the member and the new card number.
    pub async fn create_member(
        &self,
        actor: &Actor,
        vault: &Vault,
        new: NewMember,
        now: i64,
    ) -> Result<Member> {
        if !actor.role.may_manage_members() {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let m = insert_member(tx.conn(), actor, vault, &new, now).await?;
        tx.commit().await?;
        Ok(m)
    }

    /// The members on the roster (在册) whose home organization lies under `root` (in the
    /// caller's scope), by name.
    pub async fn members_under(
        &self,
        scope: &Scope,
        root: &OrgCode,
        q: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Member>> {
        self.roster_part(scope, root, RosterPart::Current, q, limit, offset)
            .await
    }

    /// One part of the roster under `root` (the current members, the mobile ones, the former
    /// ones), by name.
    pub async fn roster_part(
        &self,
        scope: &Scope,
        root: &OrgCode,
        part: RosterPart,
        q: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Member>> {
        let mut conn = self.pool().acquire().await?;
        let root = org_in_scope(&mut conn, scope, root).await?;
        let rows = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE o.path >= $1 AND o.path < $2{} \
             AND ($3 = '' OR m.name LIKE $4 ESCAPE '\\') ORDER BY o.path, m.name, m.id LIMIT $5 OFFSET $6",
            part.sql()
        ))
        .bind(&root.path)
        .bind(baiqian_domain::org::path_upper_bound(&root.path))
        .bind(q.trim())
        .bind(format!("%{}%", like_escape(q.trim())))
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(Member::from_row).collect()
    }

    /// The members on the roster whose home organization is one of `codes` (each also checked
    /// in the caller's scope), in the roster's order: organization path, name, id. Walking a subtree's nodes in
    /// path order a few dozen at a time reads the whole roster in that order without sorting it.
    pub async fn members_of_orgs(&self, scope: &Scope, codes: &[String]) -> Result<Vec<Member>> {
        if let Some(sqlite) = self.sqlite_checkins() {
            // Through sqlx, every row crossed to a worker thread and was converted twice: a
            // province's roster read at a third of the speed Excel is written.
            let (path, lower, upper) = (
                sqlite.path.clone(),
                scope.lower().to_string(),
                scope.upper().to_string(),
            );
            let codes = codes.to_vec();
            return tokio::task::spawn_blocking(move || {
                sqlite_members_of_orgs(&path, &lower, &upper, &codes)
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("roster read: {e}")))?;
        }
        if let Some(pg) = self.pg_typed() {
            // Through the `Any` driver the read alone took longer than writing the file
            // (13.2 s for a million members): typed rows decode without the detour.
            let rows = sqlx::query(&format!(
                "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.home_org = ANY($3) AND o.path >= $1 AND o.path < $2 AND m.status = 'active' \
                 ORDER BY o.path, m.name, m.id"
            ))
            .bind(scope.lower())
            .bind(scope.upper())
            .bind(codes)
            .fetch_all(pg)
            .await?;
            return rows.iter().map(pg_member).collect();
        }
        let mut out = Vec::new();
        for chunk in codes.chunks(bulk::IN_LIST) {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.home_org IN ({}) AND o.path >= $1 AND o.path < $2 \
                 AND m.status = 'active' ORDER BY o.path, m.name, m.id",
                bulk::list(3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(scope.lower()).bind(scope.upper());
            for c in chunk {
                q = q.bind(c.as_str());
            }
            for r in q.fetch_all(self.pool()).await? {
                out.push(Member::from_row(&r)?);
            }
        }
        Ok(out)
    }

    pub async fn member(&self, scope: &Scope, id: i64) -> Result<Member> {
        let mut conn = self.pool().acquire().await?;
        member_in_scope(&mut conn, scope, id).await
    }

    /// The whole ID number and phone, for admins in scope; every look is audited.
    pub async fn reveal_member(
        &self,
        actor: &Actor,
        vault: &Vault,
        id: i64,
        now: i64,
    ) -> Result<Revealed> {
        if !actor.role.may_see_personal_data() {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let m = member_in_scope(tx.conn(), &actor.scope, id).await?;
        let row = sqlx::query("SELECT id_sealed, phone_sealed FROM members WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        let corrupt = |_| {
            StoreError::Corrupt(format!(
                "member {id}: sealed data does not open with this key"
            ))
        };
        let id_number = vault
            .open(&row.try_get::<String, _>("id_sealed")?)
            .map_err(corrupt)?;
        let phone = match row.try_get::<Option<String>, _>("phone_sealed")? {
            Some(p) => Some(vault.open(&p).map_err(corrupt)?),
            None => None,
        };
        let path = org_path(tx.conn(), &m.home_org).await?;
        let mut change = Change::create(
            "member",
            &id.to_string(),
            &path,
            json!({ "fields": ["id_number", "phone"] }),
        );
        change.action = "reveal";
        change.after = None;
        change.before = None;
        change.reason = Some("personal data shown unmasked".into());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(Revealed { id_number, phone })
    }

    /// Moves a member's home organization: a transfer row and an audit row, never an overwrite
    /// without history.
    pub async fn transfer_member(
        &self,
        actor: &Actor,
        id: i64,
        to: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<Member> {
        if !actor.role.may_manage_members() {
            return Err(denied());
        }
        let reason =
            baiqian_domain::org::parse_reason(reason).map_err(|e| StoreError::Invalid(e.msg()))?;
        let mut tx = self.write().await?;
        let before = member_in_scope(tx.conn(), &actor.scope, id).await?;
        let target = match org_in_scope(tx.conn(), &actor.scope, to).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                return Err(StoreError::Invalid(
                    Msg::new("org.error.parent_not_found").arg("code", to),
                ));
            }
            Err(e) => return Err(e),
        };
        if target.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        if target.code.as_str() == before.home_org {
            return Err(StoreError::Invalid(Msg::new("member.error.same_org")));
        }
        if before.status != "active" {
            return Err(StoreError::Invalid(Msg::new("member.error.not_current")));
        }
        sqlx::query("INSERT INTO member_transfers (member_id, from_org, to_org, reason, at, actor_login) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(&before.home_org)
            .bind(target.code.as_str())
            .bind(&reason)
            .bind(now)
            .bind(&actor.login)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE members SET home_org = $1, updated_at = $2 WHERE id = $3")
            .bind(target.code.as_str())
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let from_path = org_path(tx.conn(), &before.home_org).await?;
        bump_member_counts(tx.conn(), &from_path, -1).await?;
        bump_member_counts(tx.conn(), &target.path, 1).await?;
        let after = member_in_scope(tx.conn(), &Scope::everything(), id).await?;
        let mut change = Change::update(
            "member",
            &id.to_string(),
            &target.path,
            before.audit_json(),
            after.audit_json(),
        );
        change.action = "transfer";
        change.reason = Some(reason);
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A member's transfers, oldest first.
    pub async fn member_transfers(&self, scope: &Scope, id: i64) -> Result<Vec<Transfer>> {
        self.member(scope, id).await?;
        let rows = sqlx::query(
            "SELECT t.from_org, f.name AS from_name, t.to_org, d.name AS to_name, t.reason, t.at, t.actor_login \
             FROM member_transfers t JOIN orgs f ON f.code = t.from_org JOIN orgs d ON d.code = t.to_org \
             WHERE t.member_id = $1 ORDER BY t.id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Transfer {
                    from_org: r.try_get("from_org")?,
                    from_name: r.try_get("from_name")?,
                    to_org: r.try_get("to_org")?,
                    to_name: r.try_get("to_name")?,
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                    actor_login: r.try_get("actor_login")?,
                })
            })
            .collect()
    }
}

impl Db {
    /// Loads many members (demo and benchmark worlds) with their cards in multi-row statements; one audit row records the
    /// load. Returns the new members' ids and card numbers, in order.
    pub async fn bulk_insert_members(
        &self,
        actor: &Actor,
        vault: &Vault,
        rows: &[NewMember],
        now: i64,
    ) -> Result<Vec<(i64, String)>> {
        let per_statement = bulk::rows_per_statement(17);
        let mut tx = self.write().await?;
        let first: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM members")
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let mut out = Vec::with_capacity(rows.len());
        for (chunk_no, chunk) in rows.chunks(per_statement).enumerate() {
            let base_id = first + (chunk_no * per_statement) as i64;
            let sql = format!(
                "INSERT INTO members (id, name, gender, birth_date, id_hash, id_sealed, id_masked, phone_sealed, phone_masked, home_org, \
                 workplace, joined, mobile, mobile_where, status, created_at, updated_at, confirmed) VALUES {}",
                bulk::values(
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'active', ?15, ?16, ?17)",
                    17,
                    chunk.len(),
                    1
                )
            );
            let cards = format!(
                "INSERT INTO member_cards (card_no, member_id, status, issued_at) VALUES {}",
                bulk::values("(?1, ?2, 'active', ?3)", 3, chunk.len(), 1)
            );
            // 17 placeholders a row, 'active' written inline: created_at and updated_at share `now`.
            let mut q = sqlx::query(&sql);
            let mut cq = sqlx::query(&cards);
            for (i, m) in chunk.iter().enumerate() {
                let id = base_id + i as i64;
                let seal = |v: &str| {
                    vault
                        .seal(v)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))
                };
                q = q
                    .bind(id)
                    .bind(m.name.clone())
                    .bind(m.gender.as_str())
                    .bind(m.birth_date.clone())
                    .bind(vault.hash(m.id_number.as_str()))
                    .bind(seal(m.id_number.as_str())?)
                    .bind(m.id_number.masked())
                    .bind(m.phone.as_ref().map(|p| seal(p.as_str())).transpose()?)
                    .bind(m.phone.as_ref().map(Phone::masked))
                    .bind(m.home_org.as_str().to_string())
                    .bind(m.workplace.clone())
                    .bind(m.joined.clone())
                    .bind(i64::from(m.mobile))
                    .bind(m.mobile_where.clone())
                    .bind(now)
                    .bind(now)
                    .bind(m.confirmed.clone());
                let card = card_no(m.home_org.as_str(), id, 1);
                cq = cq.bind(card.clone()).bind(id).bind(now);
                out.push((id, card));
            }
            q.execute(tx.conn())
                .await
                .map_err(|e| on_unique(e, Msg::new("member.error.id_taken")))?;
            cq.execute(tx.conn()).await?;
        }
        // The counts of every node above the new members, one statement per node.
        let mut per_org: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
        for m in rows {
            *per_org.entry(m.home_org.as_str()).or_default() += 1;
        }
        let mut per_node: std::collections::BTreeMap<String, i64> =
            std::collections::BTreeMap::new();
        for (code, n) in per_org {
            let path = org_path(tx.conn(), code).await?;
            for c in path.trim_matches('/').split('/').filter(|c| !c.is_empty()) {
                *per_node.entry(c.to_string()).or_default() += n;
            }
        }
        for (code, n) in per_node {
            sqlx::query("UPDATE orgs SET member_count = member_count + $1 WHERE code = $2")
                .bind(n)
                .bind(code)
                .execute(tx.conn())
                .await?;
        }
        self.after_explicit_ids(tx.conn(), "members").await?;
        let change = Change {
            action: "bulk_load",
            entity: "member",
            key: format!("{}..{}", first, first + rows.len() as i64 - 1),
            org_path: "/".into(),
            before: None,
            after: Some(json!({ "rows": rows.len() })),
            reason: None,
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// A member from a typed PostgreSQL row of `MEMBER_COLUMNS`.
fn pg_member(r: &sqlx::postgres::PgRow) -> Result<Member> {
    Ok(Member {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        gender: r.try_get(2)?,
        birth_date: r.try_get(3)?,
        id_masked: r.try_get(4)?,
        phone_masked: r.try_get(5)?,
        home_org: r.try_get(6)?,
        home_org_name: r.try_get(7)?,
        workplace: r.try_get(8)?,
        joined: r.try_get(9)?,
        mobile: r.try_get::<i64, _>(10)? != 0,
        mobile_where: r.try_get(11)?,
        status: r.try_get(12)?,
        card_no: r.try_get(13)?,
        confirmed: r.try_get(14)?,
    })
}

/// `Db::members_of_orgs` on SQLite: its own read-only rusqlite connection (reads go on beside
/// the writer under WAL), rows decoded straight into members.
fn sqlite_members_of_orgs(
    path: &str,
    lower: &str,
    upper: &str,
    codes: &[String],
) -> Result<Vec<Member>> {
    use rusqlite::OpenFlags;
    let c = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut out = Vec::new();
    for chunk in codes.chunks(bulk::IN_LIST) {
        let list: Vec<String> = (3..3 + chunk.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.home_org IN ({}) AND o.path >= ?1 AND o.path < ?2 \
             AND m.status = 'active' ORDER BY o.path, m.name, m.id",
            list.join(", ")
        );
        let mut stmt = c.prepare(&sql)?;
        let params = [lower, upper]
            .into_iter()
            .chain(chunk.iter().map(String::as_str));
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
            Ok(Member {
                id: r.get(0)?,
                name: r.get(1)?,
                gender: r.get(2)?,
                birth_date: r.get(3)?,
                id_masked: r.get(4)?,
                phone_masked: r.get(5)?,
                home_org: r.get(6)?,
                home_org_name: r.get(7)?,
                workplace: r.get(8)?,
                joined: r.get(9)?,
                mobile: r.get::<_, i64>(10)? != 0,
                mobile_where: r.get(11)?,
                status: r.get(12)?,
                card_no: r.get(13)?,
                confirmed: r.get(14)?,
            })
        })?;
        for m in rows {
            out.push(m?);
        }
    }
    Ok(out)
}

async fn member_in_scope(conn: &mut AnyConnection, scope: &Scope, id: i64) -> Result<Member> {
    let row = sqlx::query(&format!(
        "SELECT {MEMBER_COLUMNS} {MEMBER_FROM} WHERE m.id = $1 AND o.path >= $2 AND o.path < $3"
    ))
    .bind(id)
    .bind(scope.lower())
    .bind(scope.upper())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(Member::from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

async fn insert_member(
    conn: &mut AnyConnection,
    actor: &Actor,
    vault: &Vault,
    new: &NewMember,
    now: i64,
) -> Result<Member> {
    let org = match org_in_scope(conn, &actor.scope, &new.home_org).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => {
            return Err(StoreError::Invalid(
                Msg::new("org.error.parent_not_found").arg("code", &new.home_org),
            ));
        }
        Err(e) => return Err(e),
    };
    if org.is_retired() {
        return Err(StoreError::Invalid(Msg::new("org.error.retired")));
    }
    let seal = |v: &str| {
        vault
            .seal(v)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let id: i64 = sqlx::query(
        "INSERT INTO members (name, gender, birth_date, id_hash, id_sealed, id_masked, phone_sealed, phone_masked, home_org, \
         workplace, joined, mobile, mobile_where, status, created_at, updated_at, confirmed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'active', $14, $14, $15) RETURNING id",
    )
    .bind(&new.name)
    .bind(new.gender.as_str())
    .bind(&new.birth_date)
    .bind(vault.hash(new.id_number.as_str()))
    .bind(seal(new.id_number.as_str())?)
    .bind(new.id_number.masked())
    .bind(new.phone.as_ref().map(|p| seal(p.as_str())).transpose()?)
    .bind(new.phone.as_ref().map(Phone::masked))
    .bind(org.code.as_str())
    .bind(&new.workplace)
    .bind(&new.joined)
    .bind(i64::from(new.mobile))
    .bind(&new.mobile_where)
    .bind(now)
    .bind(&new.confirmed)
    .fetch_one(&mut *conn)
    .await
    // The number may belong to a member outside the caller's scope: the message does not say.
    .map_err(|e| on_unique(e, Msg::new("member.error.id_taken")))?
    .try_get(0)?;
    sqlx::query("INSERT INTO member_cards (card_no, member_id, status, issued_at) VALUES ($1, $2, 'active', $3)")
        .bind(card_no(org.code.as_str(), id, 1))
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    bump_member_counts(conn, &org.path, 1).await?;
    let m = member_in_scope(conn, &Scope::everything(), id).await?;
    audit::record(
        conn,
        actor,
        now,
        Change::create("member", &id.to_string(), &org.path, m.audit_json()),
    )
    .await?;
    Ok(m)
}
