//! The problem ledger (问题清单): every problem found in a village, with its owner, measures
//! and deadline, driven through its steps (整改 → 销号) with a history of each; the per-village
//! tallies the boards read; the daily mark of what is overdue; and the leaders' visits and
//! pledges (`visit`) and the townships' surveys (`survey`) that find problems.

mod deadline;
mod file;
mod import;
mod survey;
mod tally;
mod visit;

pub use deadline::{DeadlineExtension, PlanOutcome};
pub use file::{FileEntries, FileForm, VillageFile, file_day, tenths};
pub use import::{ProblemRow, parse_status};
pub use survey::{NewSurvey, Survey, SurveyVillage};
pub use tally::{ChildCounts, ProblemCounts};
pub use visit::{Leader, NewVisit, Pledge, PledgePlace, Visit};

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::{ProblemSource, ProblemStatus, ProblemStep, days_late};
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::scope::Scope;
use baiqian_domain::time::china_date;
use baiqian_domain::trust::four_eyes;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::{Node, TreeEvent, org_in_scope};
use crate::{Actor, Db, Result, StoreError};

/// A problem of a village.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub id: i64,
    pub village_code: String,
    pub village_name: String,
    pub township_name: String,
    pub village_path: String,
    pub source: ProblemSource,
    pub survey_id: Option<i64>,
    pub visit_id: Option<i64>,
    /// The standard item it falls short of, when it cites one.
    pub item_code: Option<String>,
    pub item_group: String,
    pub description: String,
    pub owner_name: String,
    pub owner_user_id: Option<i64>,
    pub measures: String,
    pub deadline: String,
    /// The deadline as first agreed: the one in force moves later only by an approved
    /// extension.
    pub original_deadline: String,
    pub status: ProblemStatus,
    pub overdue: bool,
    /// Unresolved, and due after its original deadline (延期).
    pub extended: bool,
    pub found_on: String,
    pub found_by: String,
    pub updated_at: i64,
}

impl Problem {
    /// Days past the deadline on `today`, when it is unresolved and late.
    pub fn days_late(&self, today: &str) -> Option<i64> {
        if !self.status.is_unresolved() {
            return None;
        }
        days_late(&self.deadline, today).filter(|d| *d > 0)
    }

    /// Days past the original deadline on `today`, when it was extended and is unresolved and
    /// late against it: what an extension hides from the plain overdue count.
    pub fn days_late_against_original(&self, today: &str) -> Option<i64> {
        if !self.status.is_unresolved() || self.original_deadline == self.deadline {
            return None;
        }
        days_late(&self.original_deadline, today).filter(|d| *d > 0)
    }

    fn audit_json(&self) -> serde_json::Value {
        json!({
            "status": self.status.as_str(), "owner_name": self.owner_name,
            "owner_user_id": self.owner_user_id, "measures": self.measures,
            "deadline": self.deadline, "overdue": self.overdue,
        })
    }

    fn key(&self) -> String {
        format!("#{} {}", self.id, self.village_code)
    }
}

/// One step in a problem's history.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemUpdate {
    pub at: i64,
    pub login: String,
    /// A `ProblemStep` code, `found`, or `plan` (owner, measures or deadline changed).
    pub step: String,
    pub from_status: String,
    pub to_status: String,
    pub note: String,
}

/// An evidence file of a problem's rectification, stored by SHA-256 as the ratings' are.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemEvidence {
    pub id: i64,
    pub problem_id: i64,
    pub sha256: String,
    pub mime: String,
    pub size: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

/// A problem as reported (from a form, a visit's finding or an imported row).
#[derive(Debug, Clone, Default)]
pub struct NewProblem {
    pub village: String,
    pub source: String,
    pub survey_id: Option<i64>,
    pub visit_id: Option<i64>,
    pub item_code: String,
    pub item_group: String,
    pub description: String,
    pub owner_name: String,
    /// The owner's account, when they have one (their task list shows the problem when late).
    pub owner_login: String,
    pub measures: String,
    pub deadline: String,
    /// `YYYY-MM-DD`; today when empty.
    pub found_on: String,
}

/// The owner, measures and deadline of a problem, changed while it is being worked on; a
/// deadline moved says why.
#[derive(Debug, Clone, Default)]
pub struct ProblemPlan {
    pub owner_name: String,
    pub owner_login: String,
    pub measures: String,
    pub deadline: String,
    pub deadline_reason: String,
}

/// Which problems a list shows.
#[derive(Debug, Clone, Default)]
pub struct ProblemFilter {
    pub status: Option<ProblemStatus>,
    /// Only the overdue ones.
    pub overdue: bool,
    /// Only the extended ones (unresolved, due after their original deadline).
    pub extended: bool,
    /// Only those with an extension request waiting for its decision.
    pub extension_waiting: bool,
    /// Only those found by one survey.
    pub survey_id: Option<i64>,
    /// Only those of one standard item group.
    pub item_group: Option<String>,
}

/// Overdue: unresolved, and due before the day of the last daily mark; over a problem's
/// columns prefixed with `$p` (`"p."`, or `""` unqualified). Written once, used everywhere.
macro_rules! late {
    ($p:literal) => {
        concat!(
            $p,
            "status IN ('open', 'in_progress', 'reopened') AND ",
            $p,
            "deadline < (SELECT marked_day FROM ledger_state)"
        )
    };
}
pub(crate) use late;

/// Extended: unresolved, and due after the original deadline; over a problem's columns
/// prefixed with `$p`.
macro_rules! extended {
    ($p:literal) => {
        concat!(
            $p,
            "status IN ('open', 'in_progress', 'reopened') AND ",
            $p,
            "deadline > ",
            $p,
            "original_deadline"
        )
    };
}
pub(crate) use extended;

pub(crate) const LATE: &str = late!("p.");

pub(crate) const PROBLEM_COLUMNS: &str = concat!(
    "p.id, p.village_code, v.name AS village_name, \
    COALESCE(t.name, '') AS township_name, p.village_path, p.source, p.survey_id, p.visit_id, \
    p.item_code, p.item_group, p.description, p.owner_name, p.owner_user_id, p.measures, \
    p.deadline, p.original_deadline, p.status, CASE WHEN ",
    late!("p."),
    " THEN 1 ELSE 0 END AS overdue, CASE WHEN ",
    extended!("p."),
    " THEN 1 ELSE 0 END AS extended, p.found_on, p.found_by, p.updated_at"
);

/// The day of the last daily mark, read so that it holds until this transaction ends (the
/// no-op update takes PostgreSQL's row lock; SQLite's writer lock is held already).
pub(crate) async fn marked_day(conn: &mut AnyConnection) -> Result<String> {
    Ok(sqlx::query(
        "UPDATE ledger_state SET marked_day = marked_day WHERE id = 1 RETURNING marked_day",
    )
    .fetch_one(conn)
    .await?
    .try_get(0)?)
}

pub(crate) const PROBLEM_FROM: &str = "problems p JOIN orgs v ON v.code = p.village_code \
    LEFT JOIN orgs t ON t.code = v.parent_code";

pub(crate) fn problem_from_row(r: &AnyRow) -> Result<Problem> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("problem {id}: {what}"));
    Ok(Problem {
        id,
        village_code: r.try_get("village_code")?,
        village_name: r.try_get("village_name")?,
        township_name: r.try_get("township_name")?,
        village_path: r.try_get("village_path")?,
        source: ProblemSource::parse(&r.try_get::<String, _>("source")?)
            .ok_or_else(|| corrupt("source"))?,
        survey_id: r.try_get("survey_id")?,
        visit_id: r.try_get("visit_id")?,
        item_code: r.try_get("item_code")?,
        item_group: r.try_get("item_group")?,
        description: r.try_get("description")?,
        owner_name: r.try_get("owner_name")?,
        owner_user_id: r.try_get("owner_user_id")?,
        measures: r.try_get("measures")?,
        deadline: r.try_get("deadline")?,
        original_deadline: r.try_get("original_deadline")?,
        status: ProblemStatus::parse(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| corrupt("status"))?,
        overdue: r.try_get::<i64, _>("overdue")? != 0,
        extended: r.try_get::<i64, _>("extended")? != 0,
        found_on: r.try_get("found_on")?,
        found_by: r.try_get("found_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn evidence_from_row(r: &AnyRow) -> Result<ProblemEvidence> {
    Ok(ProblemEvidence {
        id: r.try_get("id")?,
        problem_id: r.try_get("problem_id")?,
        sha256: r.try_get("sha256")?,
        mime: r.try_get("mime")?,
        size: r.try_get("size")?,
        file_name: r.try_get("file_name")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

/// A required text of at most `max` characters, without control characters.
pub(crate) fn required(s: &str, max: usize, field: &'static str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(
            Msg::new("problem.error.required").arg("field", field),
        ));
    }
    optional(t, max, field)
}

/// A text of at most `max` characters (newlines allowed), maybe empty.
pub(crate) fn optional(s: &str, max: usize, field: &'static str) -> Result<String> {
    let t = s.trim();
    if t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(StoreError::Invalid(
            Msg::new("problem.error.too_long")
                .arg("field", field)
                .arg("max", max),
        ));
    }
    Ok(t.to_string())
}

/// A `YYYY-MM-DD` date, in any form officials type.
pub(crate) fn date(s: &str, field: &'static str) -> Result<String> {
    baiqian_domain::sheet::parse_loose_date(s)
        .and_then(|d| d.full())
        .ok_or_else(|| {
            StoreError::Invalid(
                Msg::new("problem.error.date")
                    .arg("field", field)
                    .arg("value", s.trim().chars().take(20).collect::<String>()),
            )
        })
}

fn denied() -> StoreError {
    StoreError::Denied(Msg::new("error.denied"))
}

/// The account `login` if it lies in `scope` (a problem's owner, a leader).
pub(crate) async fn user_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    login: &str,
) -> Result<Option<i64>> {
    let login = login.trim();
    if login.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT u.id FROM users u JOIN orgs o ON o.code = u.org_code \
         WHERE u.login = $1 AND o.path >= $2 AND o.path < $3",
    )
    .bind(login)
    .bind(scope.lower())
    .bind(scope.upper())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(Some(r.try_get(0)?)),
        None => Err(StoreError::Invalid(
            Msg::new("problem.error.owner_login").arg("login", login),
        )),
    }
}

/// A village of the tree in scope, to hold a problem.
pub(crate) async fn village_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: &str,
) -> Result<crate::kernel::Org> {
    let code = OrgCode::parse(code.trim()).map_err(|e| StoreError::Invalid(e.msg()))?;
    let org = org_in_scope(conn, scope, &code).await?;
    if org.level != Level::Village || org.is_retired() {
        return Err(StoreError::Invalid(
            Msg::new("problem.error.not_village").arg("code", code.as_str()),
        ));
    }
    Ok(org)
}

async fn problem_in(conn: &mut AnyConnection, scope: &Scope, id: i64) -> Result<Problem> {
    let sql = format!(
        "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} WHERE p.id = $1 \
         AND p.village_path >= $2 AND p.village_path < $3"
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    problem_from_row(&row)
}

async fn add_update(
    conn: &mut AnyConnection,
    problem_id: i64,
    at: i64,
    login: &str,
    step: &str,
    (from, to): (ProblemStatus, ProblemStatus),
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO problem_updates (problem_id, at, login, step, from_status, to_status, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(problem_id)
    .bind(at)
    .bind(login)
    .bind(step)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A validated new problem, ready to insert.
pub(crate) struct CheckedProblem {
    pub village: crate::kernel::Org,
    pub source: ProblemSource,
    pub survey_id: Option<i64>,
    pub visit_id: Option<i64>,
    pub item_code: Option<String>,
    pub item_group: String,
    pub description: String,
    pub owner_name: String,
    pub owner_user_id: Option<i64>,
    pub measures: String,
    pub deadline: String,
    pub found_on: String,
}

/// Checks a new problem against the rules and the caller's scope; names the first field wrong.
pub(crate) async fn check_problem(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewProblem,
    today: &str,
) -> Result<CheckedProblem> {
    let village = village_in_scope(conn, &actor.scope, &new.village).await?;
    let source = ProblemSource::parse(new.source.trim()).ok_or_else(|| {
        StoreError::Invalid(Msg::new("problem.error.source").arg("value", new.source.trim()))
    })?;
    let description = required(&new.description, 500, "description")?;
    let owner_name = required(&new.owner_name, 40, "owner_name")?;
    let measures = required(&new.measures, 1000, "measures")?;
    let deadline = date(&new.deadline, "deadline")?;
    let found_on = if new.found_on.trim().is_empty() {
        today.to_string()
    } else {
        date(&new.found_on, "found_on")?
    };
    if found_on.as_str() > today {
        return Err(StoreError::Invalid(Msg::new("problem.error.found_later")));
    }
    if deadline < found_on {
        return Err(StoreError::Invalid(Msg::new(
            "problem.error.deadline_before",
        )));
    }
    let item_code = Some(optional(&new.item_code, 20, "item_code")?).filter(|s| !s.is_empty());
    let item_group = optional(&new.item_group, 40, "item_group")?;
    let owner_user_id = user_in_scope(conn, &actor.scope, &new.owner_login).await?;
    Ok(CheckedProblem {
        village,
        source,
        survey_id: new.survey_id,
        visit_id: new.visit_id,
        item_code,
        item_group,
        description,
        owner_name,
        owner_user_id,
        measures,
        deadline,
        found_on,
    })
}

/// Writes a checked problem, its first history row and its tally; returns its id.
pub(crate) async fn insert_problem(
    conn: &mut AnyConnection,
    login: &str,
    p: &CheckedProblem,
    marked: &str,
    now: i64,
) -> Result<i64> {
    let overdue = p.deadline.as_str() < marked;
    let id: i64 = sqlx::query(
        "INSERT INTO problems (village_code, village_path, source, survey_id, visit_id, item_code, \
         item_group, description, owner_name, owner_user_id, measures, deadline, \
         original_deadline, status, found_on, found_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 'open', $13, $14, $15) \
         RETURNING id",
    )
    .bind(p.village.code.as_str())
    .bind(&p.village.path)
    .bind(p.source.as_str())
    .bind(p.survey_id)
    .bind(p.visit_id)
    .bind(&p.item_code)
    .bind(&p.item_group)
    .bind(&p.description)
    .bind(&p.owner_name)
    .bind(p.owner_user_id)
    .bind(&p.measures)
    .bind(&p.deadline)
    .bind(&p.found_on)
    .bind(login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    add_update(
        conn,
        id,
        now,
        login,
        "found",
        (ProblemStatus::Open, ProblemStatus::Open),
        "",
    )
    .await?;
    tally::bump(
        conn,
        &tally::Tallied {
            village_code: p.village.code.as_str(),
            village_path: &p.village.path,
            item_group: &p.item_group,
        },
        None,
        Some(ProblemStatus::Open),
        tally::Flags {
            overdue: i64::from(overdue),
            extended: 0,
        },
    )
    .await?;
    Ok(id)
}

/// Puts a problem just inserted (open) into the status its ledger gives, with a history row
/// and its tally moved.
pub(crate) async fn set_imported_status(
    conn: &mut AnyConnection,
    login: &str,
    id: i64,
    checked: &CheckedProblem,
    status: ProblemStatus,
    marked: &str,
    now: i64,
) -> Result<()> {
    if status == ProblemStatus::Open {
        return Ok(());
    }
    let late = checked.deadline.as_str() < marked;
    let overdue = status.is_unresolved() && late;
    sqlx::query("UPDATE problems SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    add_update(
        conn,
        id,
        now,
        login,
        "import",
        (ProblemStatus::Open, status),
        "",
    )
    .await?;
    tally::bump(
        conn,
        &tally::Tallied {
            village_code: checked.village.code.as_str(),
            village_path: &checked.village.path,
            item_group: &checked.item_group,
        },
        Some(ProblemStatus::Open),
        Some(status),
        tally::Flags {
            overdue: i64::from(overdue) - i64::from(late),
            extended: 0,
        },
    )
    .await
}

impl Db {
    /// Reports a problem of a village in scope. The village and those above it report; a
    /// leader reports what their own visit found (`source` = visit, the visit named).
    pub async fn create_problem(&self, actor: &Actor, new: &NewProblem, now: i64) -> Result<i64> {
        let from_visit = new.source.trim() == ProblemSource::Visit.as_str();
        if !(actor.role.may(Capability::ReportProblems)
            || (from_visit && actor.role.may(Capability::LogVisits)))
        {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        let checked = check_problem(tx.conn(), actor, new, &today).await?;
        if let Some(visit) = checked.visit_id {
            visit::check_visit_place(tx.conn(), &actor.scope, visit, &checked.village.path).await?;
        }
        if !actor.role.may(Capability::ReportProblems) {
            // A leader turns only their own visit's findings into problems.
            let visit = checked.visit_id.ok_or_else(denied)?;
            visit::check_own_visit(tx.conn(), actor, visit).await?;
        }
        if let Some(survey) = checked.survey_id {
            survey::check_survey_village(tx.conn(), survey, checked.village.code.as_str()).await?;
        }
        let marked = marked_day(tx.conn()).await?;
        let id = insert_problem(tx.conn(), &actor.login, &checked, &marked, now).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "problem",
                &format!("#{id} {}", checked.village.code.as_str()),
                &checked.village.path,
                json!({
                    "village": checked.village.code, "source": checked.source.as_str(),
                    "item_code": checked.item_code, "description": checked.description,
                    "owner_name": checked.owner_name, "owner_user_id": checked.owner_user_id,
                    "measures": checked.measures, "deadline": checked.deadline,
                    "found_on": checked.found_on, "status": "open",
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a ledger of problems in one transaction, all or none: each as `create_problem`
    /// checks it, already in the status the ledger gives (an officials' ledger records what is
    /// rectified and verified; only those who verify may bring in verified ones). The first bad
    /// row stops it and nothing is written.
    pub async fn import_problems(
        &self,
        actor: &Actor,
        rows: &[(NewProblem, ProblemStatus)],
        now: i64,
    ) -> Result<Vec<i64>> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        let marked = marked_day(tx.conn()).await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (new, status) in rows {
            if matches!(status, ProblemStatus::Verified | ProblemStatus::Reopened)
                && !actor.role.may(Capability::VerifyProblems)
            {
                return Err(denied());
            }
            let checked = check_problem(tx.conn(), actor, new, &today).await?;
            if let Some(survey) = checked.survey_id {
                survey::check_survey_village(tx.conn(), survey, checked.village.code.as_str())
                    .await?;
            }
            let id = insert_problem(tx.conn(), &actor.login, &checked, &marked, now).await?;
            set_imported_status(tx.conn(), &actor.login, id, &checked, *status, &marked, now)
                .await?;
            ids.push(id);
        }
        if let Some(first) = rows.first() {
            let path = match OrgCode::parse(first.0.village.trim()) {
                Ok(code) => crate::kernel::org_path(tx.conn(), code.as_str()).await?,
                Err(_) => "/".into(),
            };
            let mut change = Change::create(
                "problem",
                &format!("{} problems", ids.len()),
                &path,
                json!({"problems": ids.len()}),
            );
            change.action = "bulk_load";
            audit::record(tx.conn(), actor, now, change).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// A problem in scope with its history (oldest first) and its evidence.
    pub async fn problem(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<(Problem, Vec<ProblemUpdate>, Vec<ProblemEvidence>)> {
        let mut conn = self.pool().acquire().await?;
        let p = problem_in(&mut conn, scope, id).await?;
        let updates = sqlx::query(
            "SELECT at, login, step, from_status, to_status, note FROM problem_updates \
             WHERE problem_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ProblemUpdate {
                at: r.try_get("at")?,
                login: r.try_get("login")?,
                step: r.try_get("step")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let evidence = sqlx::query(
            "SELECT id, problem_id, sha256, mime, size, file_name, uploaded_by, uploaded_at \
             FROM problem_evidence WHERE problem_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(evidence_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((p, updates, evidence))
    }

    /// Takes a step on a problem in scope: start and rectify (the village and above), verify and
    /// reopen (only the level above the village). A step out of order is refused, nothing
    /// written.
    pub async fn problem_step(
        &self,
        actor: &Actor,
        id: i64,
        step: ProblemStep,
        note: &str,
        now: i64,
    ) -> Result<Problem> {
        let needed = if step.is_check() {
            Capability::VerifyProblems
        } else {
            Capability::ReportProblems
        };
        if !actor.role.may(needed) {
            return Err(denied());
        }
        let note = if step.needs_note() {
            required(note, 500, "note")?
        } else {
            optional(note, 500, "note")?
        };
        let mut tx = self.write().await?;
        let marked = marked_day(tx.conn()).await?;
        let before = problem_in(tx.conn(), &actor.scope, id).await?;
        if step.is_check() && actor.scope.is_root_path(&before.village_path) {
            // The village does not check its own work.
            return Err(denied());
        }
        let to = before.status.after(step).map_err(StoreError::Conflict)?;
        if step == ProblemStep::Verify {
            // Whoever recorded the rectification does not close it.
            let rectifier: Option<String> = sqlx::query(
                "SELECT login FROM problem_updates WHERE problem_id = $1 AND step = 'rectify' \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            four_eyes(&actor.login, rectifier.as_deref()).map_err(StoreError::Denied)?;
        }
        let overdue = to.is_unresolved() && before.deadline.as_str() < marked.as_str();
        let extended = to.is_unresolved() && before.deadline > before.original_deadline;
        // The status is the one read: a step taken meanwhile by someone else wins, this fails.
        let n = sqlx::query(
            "UPDATE problems SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .bind(before.status.as_str())
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.order")
                    .arg("status", before.status.as_str())
                    .arg("step", step.as_str()),
            ));
        }
        add_update(
            tx.conn(),
            id,
            now,
            &actor.login,
            step.as_str(),
            (before.status, to),
            &note,
        )
        .await?;
        tally::bump(
            tx.conn(),
            &tally::Tallied {
                village_code: &before.village_code,
                village_path: &before.village_path,
                item_group: &before.item_group,
            },
            Some(before.status),
            Some(to),
            tally::Flags::moved((before.overdue, before.extended), (overdue, extended)),
        )
        .await?;
        let after = Problem {
            status: to,
            overdue,
            extended,
            updated_at: now,
            ..before.clone()
        };
        let mut change = Change::update(
            "problem",
            &before.key(),
            &before.village_path,
            before.audit_json(),
            after.audit_json(),
        );
        // The audit log's action is the step's own name (start, rectify, verify, reopen).
        change.action = step.as_str();
        change.reason = Some(note).filter(|n| !n.is_empty());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records an evidence file (already stored under its hash) of a problem not yet closed.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_problem_evidence(
        &self,
        actor: &Actor,
        id: i64,
        sha256: &str,
        mime: &str,
        size: i64,
        file_name: &str,
        now: i64,
    ) -> Result<ProblemEvidence> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let p = problem_in(tx.conn(), &actor.scope, id).await?;
        if p.status == ProblemStatus::Verified {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.closed").arg("id", id),
            ));
        }
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
            .take(100)
            .collect();
        let eid: i64 = sqlx::query(
            "INSERT INTO problem_evidence (problem_id, sha256, mime, size, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(sha256)
        .bind(mime)
        .bind(size)
        .bind(&name)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "problem_evidence",
                &p.key(),
                &p.village_path,
                json!({"sha256": sha256, "mime": mime, "size": size, "file_name": name}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ProblemEvidence {
            id: eid,
            problem_id: id,
            sha256: sha256.into(),
            mime: mime.into(),
            size,
            file_name: name,
            uploaded_by: actor.login.clone(),
            uploaded_at: now,
        })
    }

    /// One evidence file of a problem in scope.
    pub async fn problem_evidence(&self, scope: &Scope, id: i64) -> Result<ProblemEvidence> {
        let r = sqlx::query(
            "SELECT e.id, e.problem_id, e.sha256, e.mime, e.size, e.file_name, e.uploaded_by, \
             e.uploaded_at FROM problem_evidence e JOIN problems p ON p.id = e.problem_id \
             WHERE e.id = $1 AND p.village_path >= $2 AND p.village_path < $3",
        )
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        evidence_from_row(&r)
    }

    /// The problems of the villages under a node: the overdue ones most late first, any other
    /// list the newest first.
    pub async fn problems_under(
        &self,
        node: &Node,
        filter: &ProblemFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Problem>> {
        let mut sql = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} \
             WHERE p.village_path >= $1 AND p.village_path < $2"
        );
        let mut n = 2;
        if filter.status.is_some() {
            n += 1;
            sql.push_str(&format!(" AND p.status = ${n}"));
        }
        if filter.overdue {
            sql.push_str(&format!(" AND {LATE}"));
        }
        if filter.extended {
            sql.push_str(concat!(" AND ", extended!("p.")));
        }
        if filter.extension_waiting {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM deadline_extensions e WHERE e.problem_id = p.id \
                 AND e.status = 'pending')",
            );
        }
        if filter.survey_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND p.survey_id = ${n}"));
        }
        if filter.item_group.is_some() {
            n += 1;
            sql.push_str(&format!(" AND p.item_group = ${n}"));
        }
        // The overdue, the latest deadline last (most late first); else the newest. Each order
        // has its index, so a province's list stops after one page instead of sorting millions.
        sql.push_str(&format!(
            " ORDER BY {} LIMIT ${} OFFSET ${}",
            if filter.overdue {
                "p.deadline, p.id"
            } else {
                "p.id DESC"
            },
            n + 1,
            n + 2
        ));
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let mut q = sqlx::query(&sql).bind(&node.path).bind(upper);
        if let Some(s) = filter.status {
            q = q.bind(s.as_str());
        }
        if let Some(s) = filter.survey_id {
            q = q.bind(s);
        }
        if let Some(g) = &filter.item_group {
            q = q.bind(g.as_str());
        }
        q.bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(problem_from_row)
            .collect()
    }

    /// The overdue problems waiting for one account: those it owns and those of the villages
    /// its leaders guide (联系指导), the most late first, at most `limit`. Each source is read
    /// by its own index (the owner's; each guided area's path), never by scanning every overdue
    /// problem.
    pub async fn overdue_problems_for(&self, user_id: i64, limit: i64) -> Result<Vec<Problem>> {
        let mut found: Vec<Problem> = Vec::new();
        let owned = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} WHERE p.owner_user_id = $1 \
             AND {LATE} ORDER BY p.deadline, p.id LIMIT $2"
        );
        for r in sqlx::query(&owned)
            .bind(user_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
        {
            found.push(problem_from_row(&r)?);
        }
        let areas: Vec<String> = sqlx::query(
            "SELECT DISTINCT la.org_path FROM leader_areas la JOIN leaders l ON l.id = la.leader_id \
             WHERE l.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        let guided = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} WHERE {LATE} \
             AND p.village_path >= $1 AND p.village_path < $2 ORDER BY p.deadline, p.id LIMIT $3"
        );
        for path in areas {
            for r in sqlx::query(&guided)
                .bind(&path)
                .bind(baiqian_domain::org::path_upper_bound(&path))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            {
                let p = problem_from_row(&r)?;
                if !found.iter().any(|f| f.id == p.id) {
                    found.push(p);
                }
            }
        }
        found.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for (table, column) in [
                ("leaders", "org_path"),
                ("leader_areas", "org_path"),
                ("visits", "place_path"),
                ("pledges", "scope_path"),
                ("surveys", "township_path"),
                ("survey_villages", "village_path"),
                ("problems", "village_path"),
                ("problem_tallies", "village_path"),
            ] {
                crate::kernel::move_paths(conn, table, column, old_path, new_path).await?;
            }
        }
        Ok(())
    })
}
