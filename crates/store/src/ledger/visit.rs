//! Leaders (领导) and the areas they guide (联系指导), their visits (走访调研) and their
//! pledges (公开承诺), whose coverage is computed from the visits, never typed.

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::VisitKind;
use baiqian_domain::org::{Level, OrgCode, path_upper_bound};
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_domain::time::china_date;
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{date, denied, optional, required, user_in_scope};
use crate::audit::{self, Change};
use crate::kernel::{Node, org_in_scope};
use crate::{Actor, Db, Result, StoreError};

/// A leader who guides part of the tree.
#[derive(Debug, Clone, Serialize)]
pub struct Leader {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub name: String,
    pub title: String,
    pub user_id: Option<i64>,
    /// The townships and villages they guide: (code, name).
    pub areas: Vec<(String, String)>,
}

/// A visit as logged.
#[derive(Debug, Clone, Default)]
pub struct NewVisit {
    pub leader_id: i64,
    pub visited_on: String,
    pub place: String,
    pub kind: String,
    pub findings: String,
}

/// A leader's visit.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub id: i64,
    pub leader_id: i64,
    pub leader_name: String,
    pub leader_title: String,
    pub visited_on: String,
    pub place_code: String,
    pub place_name: String,
    pub place_level: String,
    /// The township above a visited village (empty for a township).
    pub parent_name: String,
    pub kind: VisitKind,
    pub findings: String,
    /// Problems recorded from this visit's findings.
    pub problems: i64,
}

/// A pledge with its coverage as the visits show it.
#[derive(Debug, Clone, Serialize)]
pub struct Pledge {
    pub id: i64,
    pub leader_id: i64,
    pub leader_name: String,
    pub scope_code: String,
    pub scope_name: String,
    /// `village` or `township`: which places the pledge is to visit.
    pub place_level: String,
    pub title: String,
    pub since: String,
    pub due: String,
    /// The places of that level under the scope today.
    pub target: i64,
    /// How many of them the leader has visited since the pledge.
    pub visited: i64,
}

/// Which pledges a read takes.
#[derive(Debug, Clone, Copy)]
enum PledgeWhich {
    All,
    One(i64),
    Leader(i64),
}

/// A place a pledge has yet to reach.
#[derive(Debug, Clone, Serialize)]
pub struct PledgePlace {
    pub code: String,
    pub name: String,
    pub parent_name: String,
}

/// The leader `id` in the caller's reach: in scope, and the caller's own if the caller is a
/// leader (a leader logs their own visits; the offices log anyone's in their scope).
async fn leader_in(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<(String, String)> {
    let r = sqlx::query(
        "SELECT name, org_path, user_id FROM leaders WHERE id = $1 AND org_path >= $2 AND org_path < $3",
    )
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::Invalid(Msg::new("visit.error.leader").arg("id", id)))?;
    let user: Option<i64> = r.try_get("user_id")?;
    if actor.role == Role::Leader && (user.is_none() || user != actor.user_id) {
        return Err(denied());
    }
    Ok((r.try_get("name")?, r.try_get("org_path")?))
}

/// Checks that a visit is the actor's own: its leader speaks for their account.
pub(super) async fn check_own_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    visit_id: i64,
) -> Result<()> {
    let user: Option<i64> = sqlx::query(
        "SELECT l.user_id FROM visits v JOIN leaders l ON l.id = v.leader_id WHERE v.id = $1",
    )
    .bind(visit_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_get(0)?;
    if user.is_none() || user != actor.user_id {
        return Err(denied());
    }
    Ok(())
}

/// Checks that a visit lies in scope and that `village_path` is its place or below it (a
/// finding of a township visit names one of its villages).
pub(super) async fn check_visit_place(
    conn: &mut AnyConnection,
    scope: &Scope,
    visit_id: i64,
    village_path: &str,
) -> Result<()> {
    let place: String = sqlx::query(
        "SELECT place_path FROM visits WHERE id = $1 AND place_path >= $2 AND place_path < $3",
    )
    .bind(visit_id)
    .bind(scope.lower())
    .bind(scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_get(0)?;
    if !(village_path >= place.as_str() && village_path < path_upper_bound(&place).as_str()) {
        return Err(StoreError::Invalid(Msg::new(
            "visit.error.village_elsewhere",
        )));
    }
    Ok(())
}

/// A visit as written.
pub(super) struct Logged {
    pub(super) id: i64,
    pub(super) leader_name: String,
    pub(super) place: crate::kernel::Org,
    pub(super) visited_on: String,
    pub(super) kind: VisitKind,
    pub(super) findings: String,
}

/// Checks a visit (its date not after `today`, a kind of ours, the leader in the caller's
/// reach, a township or village in scope) and writes it.
/// Logs a visit as `insert_visit` does, with its own audit row (a form's or a sheet row's).
pub(super) async fn insert_visit_audited(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewVisit,
    today: &str,
    now: i64,
) -> Result<Logged> {
    let v = insert_visit(&mut *conn, actor, new, today, now).await?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "visit",
            &format!("#{} {} {}", v.id, v.leader_name, v.place.code.as_str()),
            &v.place.path,
            json!({"leader_id": new.leader_id, "visited_on": v.visited_on,
                   "place": v.place.code, "kind": v.kind.as_str(), "findings": v.findings}),
        ),
    )
    .await?;
    Ok(v)
}

pub(super) async fn insert_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewVisit,
    today: &str,
    now: i64,
) -> Result<Logged> {
    let visited_on = date(&new.visited_on, "visited_on")?;
    if visited_on.as_str() > today {
        return Err(StoreError::Invalid(Msg::new("visit.error.future")));
    }
    let kind = VisitKind::parse(new.kind.trim()).ok_or_else(|| {
        StoreError::Invalid(Msg::new("visit.error.kind").arg("value", new.kind.trim()))
    })?;
    let findings = optional(&new.findings, 2000, "findings")?;
    let code = OrgCode::parse(new.place.trim()).map_err(|e| StoreError::Invalid(e.msg()))?;
    let (leader_name, _) = leader_in(conn, actor, new.leader_id).await?;
    let place = org_in_scope(conn, &actor.scope, &code).await?;
    if !matches!(place.level, Level::Township | Level::Village) || place.is_retired() {
        return Err(StoreError::Invalid(
            Msg::new("visit.error.place_level").arg("code", code.as_str()),
        ));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO visits (leader_id, visited_on, place_code, place_path, place_level, kind, \
         findings, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(new.leader_id)
    .bind(&visited_on)
    .bind(place.code.as_str())
    .bind(&place.path)
    .bind(place.level.as_str())
    .bind(kind.as_str())
    .bind(&findings)
    .bind(&actor.login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    Ok(Logged {
        id,
        leader_name,
        place,
        visited_on,
        kind,
        findings,
    })
}

fn may_name_leaders(actor: &Actor) -> Result<()> {
    if actor.role.may(Capability::ManageLeaders) {
        Ok(())
    } else {
        Err(denied())
    }
}

impl Db {
    /// Names a leader serving at a node in scope, maybe with the account that speaks for them.
    pub async fn create_leader(
        &self,
        actor: &Actor,
        org: &OrgCode,
        name: &str,
        title: &str,
        login: &str,
        now: i64,
    ) -> Result<i64> {
        may_name_leaders(actor)?;
        let name = required(name, 40, "name")?;
        let title = required(title, 60, "title")?;
        let mut tx = self.write().await?;
        let node = org_in_scope(tx.conn(), &actor.scope, org).await?;
        let user_id = user_in_scope(tx.conn(), &actor.scope, login).await?;
        let id = super::sheet_import::insert_leader(
            tx.conn(),
            actor,
            &node,
            (&name, &title),
            user_id,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Assigns a township or village in scope to a leader in scope to guide.
    pub async fn assign_leader_area(
        &self,
        actor: &Actor,
        leader_id: i64,
        area: &OrgCode,
        since: &str,
        now: i64,
    ) -> Result<()> {
        may_name_leaders(actor)?;
        let since = date(since, "since")?;
        let mut tx = self.write().await?;
        let (name, _) = leader_in(tx.conn(), actor, leader_id).await?;
        let node = org_in_scope(tx.conn(), &actor.scope, area).await?;
        if !matches!(node.level, Level::Township | Level::Village) {
            return Err(StoreError::Invalid(
                Msg::new("visit.error.place_level").arg("code", area.as_str()),
            ));
        }
        super::sheet_import::insert_leader_area(
            tx.conn(),
            actor,
            (leader_id, &name),
            &node,
            &since,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The leaders serving at a node or below it, with the areas they guide.
    pub async fn leaders_under(&self, node: &Node) -> Result<Vec<Leader>> {
        let rows = sqlx::query(
            "SELECT l.id, l.org_code, o.name AS org_name, l.name, l.title, l.user_id \
             FROM leaders l JOIN orgs o ON o.code = l.org_code \
             WHERE l.org_path >= $1 AND l.org_path < $2 ORDER BY l.org_path, l.id",
        )
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?;
        let areas = sqlx::query(
            "SELECT la.leader_id, la.org_code, o.name FROM leader_areas la \
             JOIN leaders l ON l.id = la.leader_id JOIN orgs o ON o.code = la.org_code \
             WHERE l.org_path >= $1 AND l.org_path < $2 ORDER BY la.org_path",
        )
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let mut mine = Vec::new();
            for a in &areas {
                if a.try_get::<i64, _>(0)? == id {
                    mine.push((a.try_get(1)?, a.try_get(2)?));
                }
            }
            out.push(Leader {
                id,
                org_code: r.try_get("org_code")?,
                org_name: r.try_get("org_name")?,
                name: r.try_get("name")?,
                title: r.try_get("title")?,
                user_id: r.try_get("user_id")?,
                areas: mine,
            });
        }
        Ok(out)
    }

    /// Logs a leader's visit to a township or village in scope.
    pub async fn log_visit(&self, actor: &Actor, new: &NewVisit, now: i64) -> Result<i64> {
        if !actor.role.may(Capability::LogVisits) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let v = insert_visit_audited(tx.conn(), actor, new, &china_date(now), now).await?;
        tx.commit().await?;
        Ok(v.id)
    }

    /// Writes many visits in one transaction, all or none, each checked as `log_visit` checks
    /// it (the demo's and an import's path).
    pub async fn import_visits(&self, actor: &Actor, rows: &[NewVisit], now: i64) -> Result<usize> {
        if !actor.role.may(Capability::LogVisits) {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        for new in rows {
            insert_visit(tx.conn(), actor, new, &today, now).await?;
        }
        let mut change = Change::create(
            "visit",
            &format!("{} visits", rows.len()),
            "/",
            json!({"visits": rows.len()}),
        );
        change.action = "bulk_load";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Visits to places under a node, the newest first; one leader's when `leader` is given.
    pub async fn visits_under(
        &self,
        node: &Node,
        leader: Option<i64>,
        (limit, offset): (i64, i64),
    ) -> Result<Vec<Visit>> {
        self.visits_where(
            &node.path,
            &path_upper_bound(&node.path),
            leader,
            None,
            (limit, offset),
        )
        .await
    }

    /// How many visits each leader logged to places under a node, in one pass: (leader id,
    /// visits), only the leaders with any.
    pub async fn visit_counts_by_leader(&self, node: &Node) -> Result<Vec<(i64, i64)>> {
        sqlx::query(
            "SELECT v.leader_id, COUNT(*) FROM visits v \
             WHERE v.place_path >= $1 AND v.place_path < $2 GROUP BY v.leader_id",
        )
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }

    /// How many visits there are to places under a node, maybe of one leader.
    pub async fn count_visits_under(&self, node: &Node, leader: Option<i64>) -> Result<i64> {
        let mut sql = String::from(
            "SELECT COUNT(*) FROM visits v WHERE v.place_path >= $1 AND v.place_path < $2",
        );
        if leader.is_some() {
            sql.push_str(" AND v.leader_id = $3");
        }
        let mut q = sqlx::query(&sql)
            .bind(&node.path)
            .bind(path_upper_bound(&node.path));
        if let Some(l) = leader {
            q = q.bind(l);
        }
        Ok(q.fetch_one(self.pool()).await?.try_get(0)?)
    }

    /// Visits to places in `[lower, upper)`, maybe of one leader or just the one `id`.
    async fn visits_where(
        &self,
        lower: &str,
        upper: &str,
        leader: Option<i64>,
        id: Option<i64>,
        (limit, offset): (i64, i64),
    ) -> Result<Vec<Visit>> {
        let mut sql = String::from(
            "SELECT v.id, v.leader_id, l.name AS leader_name, l.title AS leader_title, v.visited_on, \
             v.place_code, o.name AS place_name, v.place_level, COALESCE(par.name, '') AS parent_name, \
             v.kind, v.findings, (SELECT COUNT(*) FROM problems p WHERE p.visit_id = v.id) AS problems \
             FROM visits v JOIN leaders l ON l.id = v.leader_id JOIN orgs o ON o.code = v.place_code \
             LEFT JOIN orgs par ON par.code = o.parent_code AND v.place_level = 'village' \
             WHERE v.place_path >= $1 AND v.place_path < $2",
        );
        let mut n = 3;
        if leader.is_some() {
            n += 1;
            sql.push_str(&format!(" AND v.leader_id = ${n}"));
        }
        if id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND v.id = ${n}"));
        }
        // The offset is a number the caller computed, never text from a request.
        sql.push_str(&format!(
            " ORDER BY v.visited_on DESC, v.id DESC LIMIT $3 OFFSET {}",
            offset.max(0)
        ));
        let mut q = sqlx::query(&sql).bind(lower).bind(upper).bind(limit);
        if let Some(l) = leader {
            q = q.bind(l);
        }
        if let Some(id) = id {
            q = q.bind(id);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Visit {
                    id: r.try_get("id")?,
                    leader_id: r.try_get("leader_id")?,
                    leader_name: r.try_get("leader_name")?,
                    leader_title: r.try_get("leader_title")?,
                    visited_on: r.try_get("visited_on")?,
                    place_code: r.try_get("place_code")?,
                    place_name: r.try_get("place_name")?,
                    place_level: r.try_get("place_level")?,
                    parent_name: r.try_get("parent_name")?,
                    kind: VisitKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("visit kind {kind}")))?,
                    findings: r.try_get("findings")?,
                    problems: r.try_get("problems")?,
                })
            })
            .collect()
    }

    /// One visit in scope.
    pub async fn visit(&self, scope: &Scope, id: i64) -> Result<Visit> {
        self.visits_where(scope.lower(), scope.upper(), None, Some(id), (1, 0))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    /// Makes a leader's pledge to visit every place of `level` under a node in scope.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_pledge(
        &self,
        actor: &Actor,
        leader_id: i64,
        scope_code: &OrgCode,
        level: &str,
        title: &str,
        since: &str,
        due: &str,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::LogVisits) {
            return Err(denied());
        }
        let level = Level::parse(level)
            .ok()
            .filter(|l| matches!(l, Level::Township | Level::Village))
            .ok_or_else(|| StoreError::Invalid(Msg::new("visit.error.pledge_level")))?;
        let title = required(title, 100, "title")?;
        let since = date(since, "since")?;
        let due = date(due, "due")?;
        if due < since {
            return Err(StoreError::Invalid(Msg::new("visit.error.due_before")));
        }
        let mut tx = self.write().await?;
        let (leader_name, _) = leader_in(tx.conn(), actor, leader_id).await?;
        let node = org_in_scope(tx.conn(), &actor.scope, scope_code).await?;
        let pledge = super::sheet_import::CheckedPledge {
            leader_id,
            leader_name,
            level,
            title,
            since,
            due,
        };
        let id = super::sheet_import::insert_pledge(tx.conn(), actor, &node, &pledge, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The pledges over nodes in scope, each with its coverage.
    pub async fn pledges_in(&self, scope: &Scope) -> Result<Vec<Pledge>> {
        self.pledges_where(scope, PledgeWhich::All).await
    }

    /// The pledges of one leader over nodes in scope, each with its coverage.
    pub async fn pledges_of_leader(&self, scope: &Scope, leader_id: i64) -> Result<Vec<Pledge>> {
        self.pledges_where(scope, PledgeWhich::Leader(leader_id))
            .await
    }

    /// One pledge in scope with its coverage.
    pub async fn pledge(&self, scope: &Scope, id: i64) -> Result<Pledge> {
        self.pledges_where(scope, PledgeWhich::One(id))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    async fn pledges_where(&self, scope: &Scope, which: PledgeWhich) -> Result<Vec<Pledge>> {
        let mut sql = String::from(
            "SELECT p.id, p.leader_id, l.name AS leader_name, p.scope_code, o.name AS scope_name, \
             p.scope_path, p.place_level, p.title, p.since, p.due FROM pledges p \
             JOIN leaders l ON l.id = p.leader_id JOIN orgs o ON o.code = p.scope_code \
             WHERE p.scope_path >= $1 AND p.scope_path < $2",
        );
        let mut q_id = None;
        match which {
            PledgeWhich::All => {}
            PledgeWhich::One(id) => {
                sql.push_str(" AND p.id = $3");
                q_id = Some(id);
            }
            PledgeWhich::Leader(id) => {
                sql.push_str(" AND p.leader_id = $3");
                q_id = Some(id);
            }
        }
        sql.push_str(" ORDER BY p.scope_path, p.id");
        let mut q = sqlx::query(&sql).bind(scope.lower()).bind(scope.upper());
        if let Some(id) = q_id {
            q = q.bind(id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let leader_id: i64 = r.try_get("leader_id")?;
            let path: String = r.try_get("scope_path")?;
            let level: String = r.try_get("place_level")?;
            let since: String = r.try_get("since")?;
            let upper = path_upper_bound(&path);
            let target: i64 = sqlx::query(
                "SELECT COUNT(*) FROM orgs WHERE level = $1 AND path >= $2 AND path < $3 \
                 AND retired_at IS NULL",
            )
            .bind(&level)
            .bind(&path)
            .bind(&upper)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
            // Places visited (read from the covering index alone), less those retired since:
            // retired places are few, so they are looked up apart instead of joining every visit.
            let visited: i64 = sqlx::query(
                "SELECT (SELECT COUNT(DISTINCT v.place_code) FROM visits v \
                 WHERE v.leader_id = $1 AND v.place_level = $2 AND v.place_path >= $3 \
                 AND v.place_path < $4 AND v.visited_on >= $5) - \
                 (SELECT COUNT(*) FROM orgs o WHERE o.level = $2 AND o.path >= $3 AND o.path < $4 \
                 AND o.retired_at IS NOT NULL AND EXISTS (SELECT 1 FROM visits v WHERE v.leader_id = $1 \
                 AND v.place_level = $2 AND v.place_path = o.path AND v.visited_on >= $5))",
            )
            .bind(leader_id)
            .bind(&level)
            .bind(&path)
            .bind(&upper)
            .bind(&since)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
            out.push(Pledge {
                id: r.try_get("id")?,
                leader_id,
                leader_name: r.try_get("leader_name")?,
                scope_code: r.try_get("scope_code")?,
                scope_name: r.try_get("scope_name")?,
                place_level: level,
                title: r.try_get("title")?,
                since,
                due: r.try_get("due")?,
                target,
                visited,
            });
        }
        Ok(out)
    }

    /// The places a pledge has yet to reach, in the tree's order, at most `limit`.
    pub async fn pledge_remaining(
        &self,
        scope: &Scope,
        id: i64,
        limit: i64,
    ) -> Result<Vec<PledgePlace>> {
        let p = self.pledge(scope, id).await?;
        let code = OrgCode::parse(&p.scope_code).map_err(|_| StoreError::Corrupt(p.scope_code))?;
        let node = self.org(scope, &code).await?;
        sqlx::query(
            "SELECT o.code, o.name, COALESCE(par.name, '') AS parent_name FROM orgs o \
             LEFT JOIN orgs par ON par.code = o.parent_code \
             WHERE o.level = $1 AND o.path >= $2 AND o.path < $3 AND o.retired_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.leader_id = $4 AND v.place_level = $1 \
             AND v.place_path = o.path AND v.visited_on >= $5) ORDER BY o.path LIMIT $6",
        )
        .bind(&p.place_level)
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .bind(p.leader_id)
        .bind(&p.since)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(PledgePlace {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                parent_name: r.try_get("parent_name")?,
            })
        })
        .collect()
    }

    /// The leaders an account speaks for.
    pub async fn leaders_of_user(&self, user_id: i64) -> Result<Vec<i64>> {
        sqlx::query("SELECT id FROM leaders WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }
}
