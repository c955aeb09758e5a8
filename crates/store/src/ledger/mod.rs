//! The problem ledger (问题清单): every problem found in a village, with its owner, measures
//! and deadline, driven through its steps (整改 → 销号) with a history of each; the per-village
//! tallies the boards read; the daily mark of what is overdue; and the leaders' visits and
//! pledges (`visit`) and the townships' surveys (`survey`) that find problems.

mod as_of;
mod deadline;
mod file;
mod import;
mod problem;
mod sheet_import;
mod survey;
mod survey_import;
mod tally;
mod visit;
mod visit_import;

pub use deadline::{DeadlineExtension, PlanOutcome};
pub use file::{FileEntries, FileForm, VillageFile, file_day, tenths};
pub use import::{ProblemRow, parse_status};
pub use sheet_import::{LeaderRow, PledgeRow, pledge_level_from_word};
pub use survey::{NewSurvey, Survey, SurveyLine, SurveyVillage};
pub use survey_import::SurveyRow;
pub use tally::{ChildCounts, ProblemCounts};
pub use visit::{Leader, NewVisit, Pledge, PledgePlace, Visit};
pub use visit_import::VisitRow;

pub(crate) use problem::{create_problem_in, step_problem};

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

    /// This problem with `status` and `deadline` in force, its overdue and extended flags as
    /// they then are on the marked day (`late!` and `extended!` in Rust).
    pub(crate) fn standing(&self, status: ProblemStatus, deadline: &str, marked: &str) -> Problem {
        let unresolved = status.is_unresolved();
        Problem {
            status,
            deadline: deadline.to_string(),
            overdue: unresolved && deadline < marked,
            extended: unresolved && deadline > self.original_deadline.as_str(),
            ..self.clone()
        }
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

/// The history rows that record a rectification: its step, or an import of a ledger that says
/// the problem is rectified. Whoever wrote the latest does not verify it (the four-eyes rule).
pub(crate) const RECTIFICATION_RECORD: &str =
    "(step = 'rectify' OR (step = 'import' AND to_status = 'rectified'))";

impl ProblemUpdate {
    /// Whether this row records a rectification ([`RECTIFICATION_RECORD`]).
    pub fn records_rectification(&self) -> bool {
        self.step == ProblemStep::Rectify.as_str()
            || (self.step == "import" && self.to_status == ProblemStatus::Rectified.as_str())
    }
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
    /// Only those not yet verified closed (销号): the village file's list of its open problems.
    pub unclosed: bool,
    /// Only the unresolved (open, in progress or reopened): those a deadline still binds.
    pub unresolved: bool,
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

/// A problem's status now, in scope; for work composed with another area (`flow`).
pub(crate) async fn problem_status(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> Result<ProblemStatus> {
    Ok(problem_in(conn, scope, id).await?.status)
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

/// Records a step in a problem's history with the deadline in force after it, so it must come
/// after the step's own change to the problem's row.
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
        "INSERT INTO problem_updates (problem_id, at, login, step, from_status, to_status, note, \
         deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         (SELECT deadline FROM problems WHERE id = $1))",
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
