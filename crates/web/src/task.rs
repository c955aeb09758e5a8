//! What waits for a reader (待办): the shape every area's tasks take. It lives below the areas
//! and the home that gathers them, so neither imports the other for it.

use serde::Serialize;

/// One thing that waits for the reader (待办).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    /// What sort of task: `rating_self_assessment`, `rating_review`, `rating_approval`,
    /// `rating_publication`, `rating_late`, `activity_day`, `check_in`, `problem_overdue`,
    /// `problem_verify`, `plan_approval`, `plan_sent_back`, `loan_overdue`, `loan_review`,
    /// `loan_approval`, `loan_disbursement`, `grant_approval`, `grant_payment`, …
    pub kind: &'static str,
    pub title: String,
    /// Where the reader does it.
    pub url: String,
    /// `YYYY-MM-DD`, or none.
    pub due: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Tasks {
    pub items: Vec<Task>,
}
