//! Work that spans areas in one transaction. The areas never import each other
//! (`tests/areas.rs`); what must change two of them together is composed here, above them, from
//! the in-transaction functions they lend (`pub(crate)`), so that either everything is written or
//! nothing is.

use baiqian_domain::ledger::ProblemStep;

use crate::{Actor, Db, Result, ledger, plan};

impl Db {
    /// Marks an item of an approved plan done, by the plan's writer. On a village's plan, every
    /// problem the item serves that is still open (open, in progress, reopened) is recorded as
    /// rectified by the same person, in the same transaction, with the plan and item as the note;
    /// the level above then checks and closes it (四眼: the one who records a fix never verifies
    /// it). Problems already rectified or closed are left as they are. Returns how many problems
    /// the item rectified.
    pub async fn finish_plan_item(
        &self,
        actor: &Actor,
        plan_id: i64,
        item_id: i64,
        now: i64,
    ) -> Result<usize> {
        let (plan, item) = self.item_to_finish(actor, plan_id, item_id).await?;
        let note = format!("{} · {}", plan.title, item.content);
        let mut tx = self.write().await?;
        plan::mark_item_done(tx.conn(), actor, &plan, item_id, now).await?;
        let mut rectified = 0;
        // Read again inside the transaction: the links are what the item holds now.
        for problem in plan::item_problems(tx.conn(), item_id).await? {
            let status = ledger::problem_status(tx.conn(), &actor.scope, problem).await?;
            if status.after(ProblemStep::Rectify).is_ok() {
                ledger::step_problem(tx.conn(), actor, problem, ProblemStep::Rectify, &note, now)
                    .await?;
                rectified += 1;
            }
        }
        tx.commit().await?;
        Ok(rectified)
    }
}
