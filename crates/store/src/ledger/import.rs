//! A ledger of problems from officials' own sheets (问题清单导入): villages by name or code,
//! statuses in the words officials write (已销号, 整改中…), every bad cell reported by row and
//! column, all or nothing unless the good rows alone are asked for.

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::ProblemStatus;
use baiqian_domain::org::path_upper_bound;
use baiqian_domain::time::china_date;
use serde_json::json;

use super::{CheckedProblem, ProblemSource, date, denied, insert_problem, optional, required};
use crate::audit::{self, Change};
use crate::import::{ImportError, ImportMode, ImportOutcome};
use crate::kernel::{Node, Org};
use crate::{Actor, Db, Result, StoreError};

/// One row of a ledger as read from a sheet, cells as typed.
#[derive(Debug, Clone, Default)]
pub struct ProblemRow {
    /// The sheet's row number (1-based), for the report.
    pub row: usize,
    pub village: String,
    pub item_code: String,
    pub item_group: String,
    pub description: String,
    pub owner_name: String,
    pub measures: String,
    pub deadline: String,
    pub status: String,
    pub found_on: String,
}

/// A status as officials write it; empty is a problem just found.
pub fn parse_status(s: &str) -> Option<ProblemStatus> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(code) = ProblemStatus::parse(&t) {
        return Some(code);
    }
    Some(match t.as_str() {
        "" | "待整改" | "未整改" | "未完成" | "未开始" => ProblemStatus::Open,
        "整改中" | "正在整改" | "推进中" | "进行中" => ProblemStatus::InProgress,
        "已整改" | "已完成" | "整改完成" | "已整改待验收" | "待验收" => {
            ProblemStatus::Rectified
        }
        "已销号" | "销号" | "已验收" | "验收合格" => ProblemStatus::Verified,
        "重新整改" | "退回" | "退回整改" => ProblemStatus::Reopened,
        _ => return None,
    })
}

impl Db {
    /// Imports a ledger into the villages under `node` (the page it was uploaded on). Rows whose
    /// cells break a rule are reported, each cell by its column; with `AllOrNothing` any bad row
    /// leaves the database as it was.
    pub async fn import_problem_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[ProblemRow],
        survey_id: Option<i64>,
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let today = china_date(now);
        // Those who verify are above every village by the table (townships and up).
        let may_verify = actor.role.may(Capability::VerifyProblems);
        let mut tx = self.write().await?;
        // The villages under the node, by code and by name (a name twice is ambiguous).
        let villages: Vec<Org> = sqlx::query(&format!(
            "SELECT {} FROM orgs WHERE level = 'village' AND retired_at IS NULL \
             AND path >= $1 AND path < $2 AND path >= $3 AND path < $4 ORDER BY path",
            crate::kernel::ORG_COLUMNS
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(Org::from_row)
        .collect::<Result<_>>()?;
        let mut errors = Vec::new();
        let mut good: Vec<(CheckedProblem, ProblemStatus)> = Vec::new();
        for r in rows {
            let mut errs = Vec::new();
            let mut cell = |column: &'static str, e: StoreError| match e {
                StoreError::Invalid(msg) | StoreError::Conflict(msg) | StoreError::Denied(msg) => {
                    errs.push(ImportError {
                        row: r.row,
                        column,
                        msg,
                    })
                }
                _ => {}
            };
            let village = crate::import::pick_org(&villages, &r.village)
                .map_err(|m| cell("village", StoreError::Invalid(m)))
                .ok()
                .cloned();
            let description = required(&r.description, 500, "description")
                .map_err(|e| cell("description", e))
                .ok();
            let owner_name = required(&r.owner_name, 40, "owner_name")
                .map_err(|e| cell("owner_name", e))
                .ok();
            let measures = required(&r.measures, 1000, "measures")
                .map_err(|e| cell("measures", e))
                .ok();
            let deadline = date(&r.deadline, "deadline")
                .map_err(|e| cell("deadline", e))
                .ok();
            let found_on = if r.found_on.trim().is_empty() {
                Some(today.clone())
            } else {
                date(&r.found_on, "found_on")
                    .map_err(|e| cell("found_on", e))
                    .ok()
            };
            if let Some(f) = &found_on
                && f.as_str() > today.as_str()
            {
                cell(
                    "found_on",
                    StoreError::Invalid(Msg::new("problem.error.found_later")),
                );
            }
            if let (Some(d), Some(f)) = (&deadline, &found_on)
                && d < f
            {
                cell(
                    "deadline",
                    StoreError::Invalid(Msg::new("problem.error.deadline_before")),
                );
            }
            let item_code = optional(&r.item_code, 20, "item_code")
                .map_err(|e| cell("item_code", e))
                .ok();
            let item_group = optional(&r.item_group, 40, "item_group")
                .map_err(|e| cell("item_group", e))
                .ok();
            let status = match parse_status(&r.status) {
                Some(s)
                    if matches!(s, ProblemStatus::Verified | ProblemStatus::Reopened)
                        && !may_verify =>
                {
                    cell(
                        "status",
                        StoreError::Invalid(Msg::new("problem.error.import_verified")),
                    );
                    None
                }
                Some(s) => Some(s),
                None => {
                    cell(
                        "status",
                        StoreError::Invalid(
                            Msg::new("problem.error.status").arg("value", r.status.trim()),
                        ),
                    );
                    None
                }
            };
            if !errs.is_empty() {
                errors.extend(errs);
                continue;
            }
            if let (
                Some(village),
                Some(description),
                Some(owner_name),
                Some(measures),
                Some(deadline),
                Some(found_on),
                Some(item_code),
                Some(item_group),
                Some(status),
            ) = (
                village,
                description,
                owner_name,
                measures,
                deadline,
                found_on,
                item_code,
                item_group,
                status,
            ) {
                good.push((
                    CheckedProblem {
                        village,
                        source: if survey_id.is_some() {
                            ProblemSource::Survey
                        } else {
                            ProblemSource::Other
                        },
                        survey_id,
                        visit_id: None,
                        item_code: Some(item_code).filter(|s| !s.is_empty()),
                        item_group,
                        description,
                        owner_name,
                        owner_user_id: None,
                        measures,
                        deadline,
                        found_on,
                    },
                    status,
                ));
            }
        }
        if !errors.is_empty() && mode == ImportMode::AllOrNothing {
            return Ok(ImportOutcome {
                errors,
                committed: false,
                ..ImportOutcome::default()
            });
        }
        let marked = super::marked_day(tx.conn()).await?;
        for (checked, status) in &good {
            if let Some(survey) = survey_id {
                super::survey::check_survey_village(
                    tx.conn(),
                    survey,
                    checked.village.code.as_str(),
                )
                .await?;
            }
            let id = insert_problem(tx.conn(), &actor.login, checked, &marked, now).await?;
            super::set_imported_status(tx.conn(), &actor.login, id, checked, *status, &marked, now)
                .await?;
        }
        if !good.is_empty() {
            let mut change = Change::create(
                "problem",
                &format!("{} {} problems", node.code.as_str(), good.len()),
                &node.path,
                json!({"problems": good.len(), "rows": rows.len()}),
            );
            change.action = "bulk_load";
            audit::record(tx.conn(), actor, now, change).await?;
        }
        tx.commit().await?;
        Ok(ImportOutcome {
            created: good.len(),
            errors,
            committed: !good.is_empty(),
            ..ImportOutcome::default()
        })
    }
}
