//! A plan's items from officials' own sheets (计划导入): each row an item (content, measures,
//! owner, deadline, the target it serves in their words), added to the writer's plan while it
//! may still be edited; every bad cell by row and column, all or nothing unless the good rows
//! alone are asked for.

use baiqian_domain::Msg;
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
        let mut errors = Vec::new();
        let mut good = Vec::new();
        for r in rows {
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
                problems: Vec::new(),
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
