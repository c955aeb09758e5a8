//! The steps of loans and grants that wait for a reader (待办): an application to review or
//! approve, a loan to disburse, a grant to approve or pay. A step waits for the hands the
//! maker-checker rule leaves, near the association: a review, disbursement or payment at its
//! own node or the one above (the village and its township); an approval also one level
//! higher (the county), where it goes when the township itself applied. A city is not handed
//! every application below it.

use baiqian_domain::money::Fen;
use sqlx::Row;

use super::{approves, keeps};
use crate::kernel::within_levels as near;
use crate::{Actor, Db, Result};

/// Which step waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AidStep {
    LoanReview,
    LoanApproval,
    LoanDisbursement,
    GrantApproval,
    GrantPayment,
}

impl AidStep {
    pub fn as_str(self) -> &'static str {
        match self {
            AidStep::LoanReview => "loan_review",
            AidStep::LoanApproval => "loan_approval",
            AidStep::LoanDisbursement => "loan_disbursement",
            AidStep::GrantApproval => "grant_approval",
            AidStep::GrantPayment => "grant_payment",
        }
    }
}

/// A step that waits for the reader: the loan or grant, its association, whom it is for and
/// how much.
#[derive(Debug, Clone)]
pub struct WaitingStep {
    pub step: AidStep,
    pub id: i64,
    pub association_id: i64,
    pub association_name: String,
    pub person: String,
    pub amount: Fen,
}

/// The most waiting records read for one reader; the list shows what the reader may do.
const READ_AT_MOST: i64 = 500;

impl Db {
    /// The loan and grant steps that wait for `actor`, oldest first.
    pub async fn aid_steps_waiting(&self, actor: &Actor) -> Result<Vec<WaitingStep>> {
        let root = actor.scope.lower();
        let me = actor.login.as_str();
        let mut out = Vec::new();
        let loans = sqlx::query(
            "SELECT l.id, l.association_id, a.name AS association_name, m.name AS person, l.org_path, \
             l.stage, l.applied_by, l.reviewed_by, l.approved_by, l.principal_fen AS amount \
             FROM aid_loans l JOIN aid_associations a ON a.id = l.association_id \
             JOIN aid_members m ON m.id = l.borrower_id \
             WHERE l.stage IN ('applied', 'reviewed', 'approved') AND l.org_path >= $1 AND l.org_path < $2 \
             ORDER BY l.id LIMIT $3",
        )
        .bind(root)
        .bind(actor.scope.upper())
        .bind(READ_AT_MOST)
        .fetch_all(self.pool())
        .await?;
        for r in &loans {
            let path: String = r.try_get("org_path")?;
            let applied_by: String = r.try_get("applied_by")?;
            let reviewed_by: Option<String> = r.try_get("reviewed_by")?;
            let approved_by: Option<String> = r.try_get("approved_by")?;
            let step = match r.try_get::<String, _>("stage")?.as_str() {
                "applied" if near(root, &path, 1) && keeps(actor, &path) && applied_by != me => {
                    AidStep::LoanReview
                }
                "reviewed"
                    if near(root, &path, 2)
                        && approves(actor, &path)
                        && applied_by != me
                        && reviewed_by.as_deref() != Some(me) =>
                {
                    AidStep::LoanApproval
                }
                "approved"
                    if near(root, &path, 1)
                        && keeps(actor, &path)
                        && approved_by.as_deref() != Some(me) =>
                {
                    AidStep::LoanDisbursement
                }
                _ => continue,
            };
            out.push(waiting(step, r)?);
        }
        let grants = sqlx::query(
            "SELECT g.id, g.association_id, a.name AS association_name, m.name AS person, g.org_path, \
             g.stage, g.applied_by, g.approved_by, g.amount_fen AS amount \
             FROM aid_grants g JOIN aid_associations a ON a.id = g.association_id \
             JOIN aid_members m ON m.id = g.beneficiary_id \
             WHERE g.stage IN ('applied', 'approved') AND g.org_path >= $1 AND g.org_path < $2 \
             ORDER BY g.id LIMIT $3",
        )
        .bind(root)
        .bind(actor.scope.upper())
        .bind(READ_AT_MOST)
        .fetch_all(self.pool())
        .await?;
        for r in &grants {
            let path: String = r.try_get("org_path")?;
            let applied_by: String = r.try_get("applied_by")?;
            let approved_by: Option<String> = r.try_get("approved_by")?;
            let step = match r.try_get::<String, _>("stage")?.as_str() {
                "applied" if near(root, &path, 2) && approves(actor, &path) && applied_by != me => {
                    AidStep::GrantApproval
                }
                "approved"
                    if near(root, &path, 1)
                        && keeps(actor, &path)
                        && approved_by.as_deref() != Some(me) =>
                {
                    AidStep::GrantPayment
                }
                _ => continue,
            };
            out.push(waiting(step, r)?);
        }
        Ok(out)
    }
}

fn waiting(step: AidStep, r: &sqlx::any::AnyRow) -> Result<WaitingStep> {
    Ok(WaitingStep {
        step,
        id: r.try_get("id")?,
        association_id: r.try_get("association_id")?,
        association_name: r.try_get("association_name")?,
        person: r.try_get("person")?,
        amount: Fen(r.try_get("amount")?),
    })
}

#[cfg(test)]
mod tests {
    use crate::kernel::within_levels as near;

    #[test]
    fn a_step_waits_near_its_association_only() {
        let village = "/3305/330522/330522101/330522101201/";
        assert!(near("/3305/330522/330522101/330522101201/", village, 1));
        assert!(near("/3305/330522/330522101/", village, 1));
        assert!(!near("/3305/330522/", village, 1));
        assert!(near("/3305/330522/", village, 2));
        assert!(!near("/3305/", village, 2));
        assert!(!near("/3305/330522/330522102/", village, 2));
        assert!(!near("/3305/330522/330522101/330522101202/", village, 2));
    }
}
