//! Work that spans areas in one transaction. The areas never import each other
//! (`tests/areas.rs`); what must change two of them together is composed here, above them, from
//! the in-transaction functions they lend (`pub(crate)`), so that either everything is written or
//! nothing is.

use baiqian_domain::ledger::ProblemStep;

use baiqian_domain::capability::Capability;

use crate::{Actor, Db, Result, ledger, plan, post};

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

    /// Files an issue a patrol found as a problem (source `patrol`) in the situation file of
    /// the village where it was found, with its owner, measures and deadline, and links the two,
    /// in one transaction: the problem's own workflow (fix, a different hand's check, overdue
    /// marks) then takes it to the end, and the post shows where it stands. Returns the
    /// problem's id.
    pub async fn file_patrol_issue(
        &self,
        actor: &Actor,
        issue_id: i64,
        filing: &post::IssueFiling,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(crate::check::denied());
        }
        let mut tx = self.write().await?;
        let (village, spot, description, found_on, _) =
            post::unfiled_issue(tx.conn(), actor, issue_id).await?;
        let new = ledger::NewProblem {
            village,
            source: baiqian_domain::ledger::ProblemSource::Patrol
                .as_str()
                .into(),
            survey_id: None,
            visit_id: None,
            item_code: String::new(),
            item_group: String::new(),
            description: format!("{spot}：{description}"),
            owner_name: filing.owner_name.clone(),
            owner_login: filing.owner_login.clone(),
            measures: filing.measures.clone(),
            deadline: filing.deadline.clone(),
            found_on,
        };
        let problem = ledger::create_problem_in(tx.conn(), actor, &new, now).await?;
        post::link_problem(tx.conn(), issue_id, problem).await?;
        tx.commit().await?;
        Ok(problem)
    }
}
