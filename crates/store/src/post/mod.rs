//! Public-welfare supervision posts (党建+公益岗), like 林城镇's post along road 318, whose
//! Party members on duty put right the 脏乱差 of the small towns by the road: a post at a
//! township or village with what it watches and along where; a rota of supervisors (members
//! with an account under the post's place) by day; the patrols the supervisor on duty logs;
//! the issues they find, by village and spot. An issue is filed as a problem in that village's
//! situation file (`Db::file_patrol_issue` in `flow`), whose own workflow — owner, deadline,
//! fix, a different hand's check — takes it to the end; the post shows where each stands.

use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, path_upper_bound};
use baiqian_domain::time::china_date;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::check::{denied, invalid, text};
use crate::kernel::{Node, TreeEvent};
use crate::{Actor, Db, Result, StoreError};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize)]
pub struct WelfarePost {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    /// What the post watches over.
    pub duty: String,
    /// Along where it patrols.
    pub route: String,
}

#[derive(Debug, Clone, Default)]
pub struct NewPost {
    pub name: String,
    pub duty: String,
    pub route: String,
}

/// What the township decides when it files an issue as a problem: who fixes it, how, by when.
#[derive(Debug, Clone, Default)]
pub struct IssueFiling {
    pub owner_name: String,
    /// The owner's account, when they have one.
    pub owner_login: String,
    pub measures: String,
    pub deadline: String,
}

/// A post on a board, with its last 30 days.
#[derive(Debug, Clone, Serialize)]
pub struct PostFigures {
    pub post: WelfarePost,
    pub patrols: i64,
    pub issues: i64,
    /// Issues not filed as a problem yet.
    pub unfiled: i64,
    pub last_patrol: Option<String>,
}

/// A day of the rota.
#[derive(Debug, Clone, Serialize)]
pub struct Duty {
    pub date: String,
    pub supervisor: String,
    pub supervisor_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Patrol {
    pub id: i64,
    pub post_id: i64,
    pub supervisor: String,
    pub supervisor_name: String,
    pub date: String,
    pub started: String,
    pub ended: String,
    pub route: String,
    pub note: String,
    pub issues: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewPatrol {
    pub date: String,
    pub started: String,
    pub ended: String,
    pub route: String,
    pub note: String,
}

/// An issue found on a patrol, and the problem it became (with where that stands).
#[derive(Debug, Clone, Serialize)]
pub struct PatrolIssue {
    pub id: i64,
    pub patrol_id: i64,
    pub post_id: i64,
    pub village_code: String,
    pub village_name: String,
    pub spot: String,
    pub description: String,
    pub found_on: String,
    pub found_by: String,
    pub problem_id: Option<i64>,
    pub problem_status: Option<String>,
}

const POST_COLUMNS: &str =
    "p.id, p.org_code, o.name AS org_name, p.org_path, p.name, p.duty, p.route";

fn post_from_row(r: &AnyRow) -> Result<WelfarePost> {
    Ok(WelfarePost {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        duty: r.try_get("duty")?,
        route: r.try_get("route")?,
    })
}

/// The post `id` if the actor's scope holds it, or the actor sits under its place (the
/// members of 林城镇's villages are the supervisors of the town's post).
pub(crate) async fn post_in_scope(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<WelfarePost> {
    let r = sqlx::query(&format!(
        "SELECT {POST_COLUMNS} FROM welfare_posts p JOIN orgs o ON o.code = p.org_code \
         WHERE p.id = $1 AND ((p.org_path >= $2 AND p.org_path < $3) \
         OR substr($2, 1, length(p.org_path)) = p.org_path)"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    post_from_row(&r)
}

/// A day `YYYY-MM-DD` (officials' `2016/3/1` too).
fn day(s: &str, key: &'static str) -> Result<String> {
    baiqian_domain::member::parse_date(s).map_err(|_| invalid(key))
}

/// A time of day `HH:MM`.
fn clock(s: &str, key: &'static str) -> Result<String> {
    let t = s.trim();
    let ok = t.len() == 5
        && t.as_bytes()[2] == b':'
        && t[..2].parse::<u32>().is_ok_and(|h| h < 24)
        && t[3..].parse::<u32>().is_ok_and(|m| m < 60);
    if ok {
        Ok(t.to_string())
    } else {
        Err(invalid(key))
    }
}

/// The active account `login` at or under `path`, with its name.
async fn account_under(
    conn: &mut AnyConnection,
    login: &str,
    path: &str,
) -> Result<Option<String>> {
    Ok(crate::kernel::accounts_under(conn, path, Some(login))
        .await?
        .into_iter()
        .next()
        .map(|(_, name)| name))
}

impl Db {
    /// Opens a post at a township or village. Returns its id.
    pub async fn create_post(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewPost,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::KeepPosts) || !actor.scope.contains_path(&node.path) {
            return Err(denied());
        }
        if !matches!(node.level, Level::Township | Level::Village) {
            return Err(invalid("post.error.place"));
        }
        let name = text(&new.name, 2, 40, "post.error.name")?;
        let duty = text(&new.duty, 2, 200, "post.error.duty")?;
        let route = text(&new.route, 2, 200, "post.error.route")?;
        let mut tx = self.write().await?;
        if sqlx::query("SELECT id FROM welfare_posts WHERE name = $1")
            .bind(&name)
            .fetch_optional(tx.conn())
            .await?
            .is_some()
        {
            return Err(crate::check::conflict("post.error.name_taken"));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO welfare_posts (org_code, org_path, name, duty, route, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(&duty)
        .bind(&route)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "welfare_post",
                &name,
                &node.path,
                json!({ "name": name, "duty": duty, "route": route }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The post `id` as the actor may see it.
    pub async fn welfare_post(&self, actor: &Actor, id: i64) -> Result<WelfarePost> {
        let mut conn = self.pool().acquire().await?;
        post_in_scope(&mut conn, actor, id).await
    }

    /// The posts at and under a node with their last 30 days, by place.
    pub async fn posts_under(&self, node: &Node, now: i64) -> Result<Vec<PostFigures>> {
        let since = china_date(now - 30 * DAY_MS);
        sqlx::query(&format!(
            "SELECT {POST_COLUMNS}, \
             (SELECT COUNT(*) FROM patrols t WHERE t.post_id = p.id AND t.patrol_date > $3) AS patrols, \
             (SELECT COUNT(*) FROM patrol_issues i WHERE i.post_id = p.id AND i.found_on > $3) AS issues, \
             (SELECT COUNT(*) FROM patrol_issues i WHERE i.post_id = p.id AND i.problem_id IS NULL) AS unfiled, \
             (SELECT MAX(patrol_date) FROM patrols t WHERE t.post_id = p.id) AS last_patrol \
             FROM welfare_posts p JOIN orgs o ON o.code = p.org_code \
             WHERE p.org_path >= $1 AND p.org_path < $2 ORDER BY p.org_path, p.id LIMIT 2000"
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .bind(&since)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(PostFigures {
                post: post_from_row(r)?,
                patrols: r.try_get("patrols")?,
                issues: r.try_get("issues")?,
                unfiled: r.try_get("unfiled")?,
                last_patrol: r.try_get("last_patrol")?,
            })
        })
        .collect()
    }

    /// Puts a supervisor (an account at or under the post's place) on the rota for a day.
    pub async fn set_post_duty(
        &self,
        actor: &Actor,
        post_id: i64,
        date: &str,
        supervisor: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepPosts) {
            return Err(denied());
        }
        let date = day(date, "post.error.date")?;
        let mut tx = self.write().await?;
        let post = post_in_scope(tx.conn(), actor, post_id).await?;
        let name = account_under(tx.conn(), supervisor.trim(), &post.org_path)
            .await?
            .ok_or(invalid("post.error.supervisor"))?;
        let taken = sqlx::query(
            "SELECT id FROM post_duties WHERE post_id = $1 AND duty_date = $2 AND supervisor = $3",
        )
        .bind(post_id)
        .bind(&date)
        .bind(supervisor.trim())
        .fetch_optional(tx.conn())
        .await?
        .is_some();
        if taken {
            return Err(crate::check::conflict("post.error.on_duty"));
        }
        sqlx::query(
            "INSERT INTO post_duties (post_id, duty_date, supervisor, supervisor_name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(post_id)
        .bind(&date)
        .bind(supervisor.trim())
        .bind(&name)
        .bind(now)
        .execute(tx.conn())
        .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "post_duty",
                &format!("{} {date}", post.name),
                &post.org_path,
                json!({ "duty_date": date, "supervisor": supervisor.trim() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rota from `from` to `to` (inclusive), by day.
    pub async fn post_duties(&self, post_id: i64, from: &str, to: &str) -> Result<Vec<Duty>> {
        sqlx::query(
            "SELECT duty_date, supervisor, supervisor_name FROM post_duties \
             WHERE post_id = $1 AND duty_date >= $2 AND duty_date <= $3 \
             ORDER BY duty_date, supervisor_name LIMIT 500",
        )
        .bind(post_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Duty {
                date: r.try_get("duty_date")?,
                supervisor: r.try_get("supervisor")?,
                supervisor_name: r.try_get("supervisor_name")?,
            })
        })
        .collect()
    }

    /// The supervisor on duty logs a patrol of that day (not a later one). Returns its id.
    pub async fn log_patrol(
        &self,
        actor: &Actor,
        post_id: i64,
        new: &NewPatrol,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::Patrol) {
            return Err(denied());
        }
        let date = day(&new.date, "post.error.date")?;
        if date > china_date(now) {
            return Err(invalid("post.error.future"));
        }
        let started = clock(&new.started, "post.error.time")?;
        let ended = clock(&new.ended, "post.error.time")?;
        if ended < started {
            return Err(invalid("post.error.time"));
        }
        let route = text(&new.route, 2, 200, "post.error.route")?;
        let note = text(&new.note, 0, 500, "post.error.note")?;
        let mut tx = self.write().await?;
        let post = post_in_scope(tx.conn(), actor, post_id).await?;
        let duty = sqlx::query(
            "SELECT supervisor_name FROM post_duties WHERE post_id = $1 AND duty_date = $2 \
             AND supervisor = $3",
        )
        .bind(post_id)
        .bind(&date)
        .bind(&actor.login)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::Denied(baiqian_domain::Msg::new(
            "post.error.not_on_duty",
        )))?;
        let name: String = duty.try_get(0)?;
        let id: i64 = sqlx::query(
            "INSERT INTO patrols (post_id, org_path, supervisor, supervisor_name, patrol_date, \
             started, ended, route, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(post_id)
        .bind(&post.org_path)
        .bind(&actor.login)
        .bind(&name)
        .bind(&date)
        .bind(&started)
        .bind(&ended)
        .bind(&route)
        .bind(&note)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "patrol",
                &format!("#{id} {} {date}", post.name),
                &post.org_path,
                json!({ "patrol_date": date, "started": started, "ended": ended,
                        "route": route, "note": note }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A post's patrols, newest first.
    pub async fn post_patrols(&self, post_id: i64, limit: i64) -> Result<Vec<Patrol>> {
        sqlx::query(
            "SELECT t.id, t.post_id, t.supervisor, t.supervisor_name, t.patrol_date, t.started, \
             t.ended, t.route, t.note, \
             (SELECT COUNT(*) FROM patrol_issues i WHERE i.patrol_id = t.id) AS issues \
             FROM patrols t WHERE t.post_id = $1 ORDER BY t.patrol_date DESC, t.id DESC LIMIT $2",
        )
        .bind(post_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Patrol {
                id: r.try_get("id")?,
                post_id: r.try_get("post_id")?,
                supervisor: r.try_get("supervisor")?,
                supervisor_name: r.try_get("supervisor_name")?,
                date: r.try_get("patrol_date")?,
                started: r.try_get("started")?,
                ended: r.try_get("ended")?,
                route: r.try_get("route")?,
                note: r.try_get("note")?,
                issues: r.try_get("issues")?,
            })
        })
        .collect()
    }

    /// The supervisor of a patrol reports an issue they found on it, at a village under the
    /// post's place. Returns its id.
    pub async fn report_patrol_issue(
        &self,
        actor: &Actor,
        patrol_id: i64,
        village: &str,
        spot: &str,
        description: &str,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::Patrol) {
            return Err(denied());
        }
        let spot = text(spot, 2, 100, "post.error.spot")?;
        let description = text(description, 2, 500, "post.error.description")?;
        let mut tx = self.write().await?;
        let r = sqlx::query("SELECT post_id, supervisor, patrol_date FROM patrols WHERE id = $1")
            .bind(patrol_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        // Out of reach is not found, whoever's patrol it is.
        let post = post_in_scope(tx.conn(), actor, r.try_get("post_id")?).await?;
        if r.try_get::<String, _>("supervisor")? != actor.login {
            return Err(StoreError::Denied(baiqian_domain::Msg::new(
                "post.error.not_your_patrol",
            )));
        }
        let found_on: String = r.try_get("patrol_date")?;
        let v = sqlx::query(
            "SELECT code, path FROM orgs WHERE code = $1 AND level = 'village' \
             AND path >= $2 AND path < $3",
        )
        .bind(village.trim())
        .bind(&post.org_path)
        .bind(path_upper_bound(&post.org_path))
        .fetch_optional(tx.conn())
        .await?
        .ok_or(invalid("post.error.village"))?;
        let village_path: String = v.try_get("path")?;
        let id: i64 = sqlx::query(
            "INSERT INTO patrol_issues (patrol_id, post_id, org_path, village_code, spot, \
             description, found_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(patrol_id)
        .bind(post.id)
        .bind(&post.org_path)
        .bind(village.trim())
        .bind(&spot)
        .bind(&description)
        .bind(&found_on)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "patrol_issue",
                &format!("#{id} {}", post.name),
                &village_path,
                json!({ "village": village.trim(), "spot": spot, "description": description,
                        "found_on": found_on }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The posts where the actor is on today's rota and has not logged today's patrol (their
    /// task list).
    pub async fn patrols_due(&self, actor: &Actor, today: &str) -> Result<Vec<(i64, String)>> {
        sqlx::query(
            "SELECT p.id, p.name FROM post_duties d JOIN welfare_posts p ON p.id = d.post_id \
             WHERE d.supervisor = $1 AND d.duty_date = $2 AND NOT EXISTS (SELECT 1 FROM patrols t \
             WHERE t.post_id = d.post_id AND t.supervisor = $1 AND t.patrol_date = $2) \
             ORDER BY p.id LIMIT 20",
        )
        .bind(&actor.login)
        .bind(today)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }

    /// The post a patrol belongs to.
    pub async fn patrol_post(&self, patrol_id: i64) -> Result<i64> {
        Ok(sqlx::query("SELECT post_id FROM patrols WHERE id = $1")
            .bind(patrol_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?)
    }

    /// The accounts at and under a post's place (who may be on its rota) and its villages
    /// (where an issue may be), by name.
    pub async fn post_people_and_places(
        &self,
        actor: &Actor,
        post_id: i64,
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
        let mut conn = self.pool().acquire().await?;
        let post = post_in_scope(&mut conn, actor, post_id).await?;
        let upper = path_upper_bound(&post.org_path);
        let people = crate::kernel::accounts_under(&mut conn, &post.org_path, None).await?;
        let places = sqlx::query(
            "SELECT code, name FROM orgs WHERE level = 'village' AND path >= $1 AND path < $2 \
             AND retired_at IS NULL ORDER BY path LIMIT 500",
        )
        .bind(&post.org_path)
        .bind(&upper)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
        Ok((people, places))
    }

    /// A post's issues, newest first, with the problem each became and where it stands.
    pub async fn post_issues(&self, post_id: i64, limit: i64) -> Result<Vec<PatrolIssue>> {
        sqlx::query(
            "SELECT i.id, i.patrol_id, i.post_id, i.village_code, o.name AS village_name, i.spot, \
             i.description, i.found_on, t.supervisor_name AS found_by, i.problem_id, \
             pr.status AS problem_status FROM patrol_issues i \
             JOIN orgs o ON o.code = i.village_code JOIN patrols t ON t.id = i.patrol_id \
             LEFT JOIN problems pr ON pr.id = i.problem_id \
             WHERE i.post_id = $1 ORDER BY i.found_on DESC, i.id DESC LIMIT $2",
        )
        .bind(post_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(PatrolIssue {
                id: r.try_get("id")?,
                patrol_id: r.try_get("patrol_id")?,
                post_id: r.try_get("post_id")?,
                village_code: r.try_get("village_code")?,
                village_name: r.try_get("village_name")?,
                spot: r.try_get("spot")?,
                description: r.try_get("description")?,
                found_on: r.try_get("found_on")?,
                found_by: r.try_get("found_by")?,
                problem_id: r.try_get("problem_id")?,
                problem_status: r.try_get("problem_status")?,
            })
        })
        .collect()
    }
}

/// An issue not filed yet, in the actor's scope: (village code, spot, description, found on,
/// post's path). For `flow`, inside its transaction.
pub(crate) async fn unfiled_issue(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<(String, String, String, String, String)> {
    let r = sqlx::query(
        "SELECT village_code, spot, description, found_on, org_path, problem_id FROM patrol_issues \
         WHERE id = $1 AND org_path >= $2 AND org_path < $3",
    )
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if r.try_get::<Option<i64>, _>("problem_id")?.is_some() {
        return Err(crate::check::conflict("post.error.filed"));
    }
    Ok((
        r.try_get("village_code")?,
        r.try_get("spot")?,
        r.try_get("description")?,
        r.try_get("found_on")?,
        r.try_get("org_path")?,
    ))
}

/// Records the problem an issue became (once: a second filing finds it filed).
pub(crate) async fn link_problem(
    conn: &mut AnyConnection,
    issue_id: i64,
    problem_id: i64,
) -> Result<()> {
    let changed = sqlx::query(
        "UPDATE patrol_issues SET problem_id = $1 WHERE id = $2 AND problem_id IS NULL",
    )
    .bind(problem_id)
    .bind(issue_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 1 {
        Ok(())
    } else {
        Err(crate::check::conflict("post.error.filed"))
    }
}

pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for table in ["welfare_posts", "patrols", "patrol_issues"] {
                crate::kernel::move_paths(&mut *conn, table, "org_path", old_path, new_path)
                    .await?;
            }
        }
        Ok(())
    })
}
