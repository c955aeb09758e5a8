//! A plan's items from officials' own sheets (计划导入): each row an item (content, measures,
//! owner, deadline, the target it serves in their words, and on a village's plan the problems
//! it serves), added to the writer's plan while it may still be edited; every bad cell by row
//! and column, all or nothing unless the good rows alone are asked for.

use baiqian_domain::Msg;
use baiqian_domain::org::Level;
use baiqian_domain::plan::TargetMeasure;

use super::NewPlanItem;
use super::plans::{MAX_ITEMS, check_item, conflict, denied, insert_item, writes};
use crate::import::{ImportError, ImportMode, ImportOutcome};
use crate::{Actor, Db, Result, StoreError};

/// One row of a plan's sheet, cells as typed.
#[derive(Debug, Clone, Default)]
pub struct PlanItemRow {
    pub row: usize,
    pub content: String,
    pub measures: String,
    pub owner: String,
    pub deadline: String,
    pub measure: String,
    /// The village's problems the item serves: by number as the export writes them
    /// (`#12 …；#15 …`), or by their descriptions separated by 、 or ；.
    pub problems: String,
}

/// The problems a cell names among a village's problems not yet closed (`(id, description)`):
/// by number (`#12`, as the export writes them, any text after a number being its label), or,
/// with no number in the cell, by description — the whole cell, or failing that each part
/// between 、 and ；, naming exactly one problem. (A cell's line breaks do not survive the
/// importer's folding of whitespace, so nothing here depends on them.)
fn problems_named(cell: &str, open: &[(i64, String)]) -> std::result::Result<Vec<i64>, Msg> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(Vec::new());
    }
    if cell.contains(['#', '＃']) {
        let mut ids = Vec::new();
        for after in cell.split(['#', '＃']).skip(1) {
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            let id: i64 = digits
                .parse()
                .map_err(|_| Msg::new("plan.error.problem_unknown").arg("text", cell))?;
            if !open.iter().any(|(o, _)| *o == id) {
                return Err(Msg::new("plan.error.problem_village").arg("id", id.to_string()));
            }
            ids.push(id);
        }
        return Ok(ids);
    }
    let by_text = |text: &str| -> std::result::Result<i64, Msg> {
        let found: Vec<i64> = open
            .iter()
            .filter(|(_, d)| d.trim() == text)
            .map(|(id, _)| *id)
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Msg::new("plan.error.problem_unknown").arg("text", text)),
            _ => Err(Msg::new("plan.error.problem_ambiguous").arg("text", text)),
        }
    };
    match by_text(cell) {
        Ok(id) => Ok(vec![id]),
        Err(whole) => {
            let parts: Vec<&str> = cell
                .split(['、', '；', ';'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            if parts.len() < 2 {
                return Err(whole);
            }
            parts.into_iter().map(by_text).collect()
        }
    }
}

impl Db {
    /// Adds the rows of a sheet to a plan as items.
    pub async fn import_plan_items(
        &self,
        actor: &Actor,
        plan_id: i64,
        rows: &[PlanItemRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        let plan = self.plan(actor, plan_id).await?;
        if !writes(actor, plan.level, &plan.org_path) {
            return Err(denied());
        }
        if !plan.status.editable() {
            return Err(conflict("plan.error.not_editable"));
        }
        let open = if rows.iter().any(|r| !r.problems.trim().is_empty()) {
            self.unclosed_problems_of_plan(&plan).await?
        } else {
            Vec::new()
        };
        let mut errors = Vec::new();
        let mut good = Vec::new();
        for r in rows {
            if plan.level != Level::Village && !r.problems.trim().is_empty() {
                errors.push(ImportError {
                    row: r.row,
                    column: "problems",
                    msg: Msg::new("plan.error.problems_village"),
                });
                continue;
            }
            let problems = match problems_named(&r.problems, &open) {
                Ok(ids) => ids,
                Err(msg) => {
                    errors.push(ImportError {
                        row: r.row,
                        column: "problems",
                        msg,
                    });
                    continue;
                }
            };
            let measure = if r.measure.trim().is_empty() {
                None
            } else {
                match TargetMeasure::parse_words(&r.measure) {
                    Some(m) => Some(m),
                    None => {
                        errors.push(ImportError {
                            row: r.row,
                            column: "measure",
                            msg: Msg::new("plan.error.measure"),
                        });
                        continue;
                    }
                }
            };
            let item = NewPlanItem {
                content: r.content.clone(),
                measures: r.measures.clone(),
                owner: r.owner.clone(),
                deadline: r.deadline.clone(),
                measure,
                problems,
            };
            match check_item(&item) {
                Ok(c) => good.push(c),
                Err((column, StoreError::Invalid(msg))) => errors.push(ImportError {
                    row: r.row,
                    column,
                    msg,
                }),
                Err((_, other)) => return Err(other),
            }
        }
        if plan.items.len() + good.len() > MAX_ITEMS {
            return Err(StoreError::Invalid(Msg::new("plan.error.too_many")));
        }
        let write = !good.is_empty() && (errors.is_empty() || mode == ImportMode::GoodRowsOnly);
        if write {
            let mut tx = self.write().await?;
            for (k, item) in good.iter().enumerate() {
                insert_item(tx.conn(), actor, &plan, plan.items.len() + k + 1, item, now).await?;
            }
            tx.commit().await?;
        }
        Ok(ImportOutcome {
            created: if write { good.len() } else { 0 },
            updated: 0,
            unchanged: 0,
            committed: write,
            errors,
        })
    }
}
