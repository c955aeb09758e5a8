//! The problems of a place as they stood at the end of a past day, read from their history: a
//! past year's village file shows the year's state, not today's. A problem counts when it had
//! been found by then; its status is the one its last step before the day's end left it in
//! (open when none had been taken), and its deadline the one in force then (the first agreed
//! when no step before recorded one). Owner and measures are today's: their changes are audited
//! but not kept step by step.

use std::collections::HashMap;

use super::*;

/// The problems under `$1..$2` found by `$3`, with the status and deadline they had when the
/// day `$3` ended (`$4`, in ms), and whether they were overdue or extended on that day.
const AS_OF: &str = "SELECT q.*, \
    CASE WHEN q.status IN ('open', 'in_progress', 'reopened') AND q.deadline < $3 \
    THEN 1 ELSE 0 END AS overdue, \
    CASE WHEN q.status IN ('open', 'in_progress', 'reopened') AND q.deadline > q.original_deadline \
    THEN 1 ELSE 0 END AS extended \
    FROM (SELECT p.id, p.village_code, v.name AS village_name, \
    COALESCE(t.name, '') AS township_name, p.village_path, p.source, p.survey_id, p.visit_id, \
    p.item_code, p.item_group, p.description, p.owner_name, p.owner_user_id, p.measures, \
    p.original_deadline, p.found_on, p.found_by, p.updated_at, \
    COALESCE((SELECT u.to_status FROM problem_updates u WHERE u.problem_id = p.id \
    AND u.at < $4 ORDER BY u.at DESC, u.id DESC LIMIT 1), 'open') AS status, \
    COALESCE((SELECT u.deadline FROM problem_updates u WHERE u.problem_id = p.id \
    AND u.at < $4 AND u.deadline <> '' ORDER BY u.at DESC, u.id DESC LIMIT 1), \
    p.original_deadline) AS deadline \
    FROM problems p JOIN orgs v ON v.code = p.village_code \
    LEFT JOIN orgs t ON t.code = v.parent_code \
    WHERE p.village_path >= $1 AND p.village_path < $2 AND p.found_on <= $3) q";

/// The first moment after the day `as_of` (China time).
fn day_end_ms(as_of: &str) -> Result<i64> {
    baiqian_domain::time::day_start_ms(as_of)
        .map(|ms| ms + 86_400_000)
        .ok_or_else(|| StoreError::Corrupt(format!("not a day: {as_of}")))
}

impl Db {
    /// A node's problems not yet closed when the day `as_of` ended, as they stood then, the
    /// most pressing deadline first; at most `limit`.
    pub async fn unclosed_problems_as_of(
        &self,
        node: &Node,
        as_of: &str,
        limit: i64,
    ) -> Result<Vec<Problem>> {
        let sql = format!(
            "SELECT * FROM ({AS_OF}) w WHERE w.status <> 'verified' \
             ORDER BY w.deadline, w.id LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(&node.path)
            .bind(baiqian_domain::org::path_upper_bound(&node.path))
            .bind(as_of)
            .bind(day_end_ms(as_of)?)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(problem_from_row).collect()
    }

    /// Per village under a node, its problems counted as they stood when the day `as_of`
    /// ended; a village with none is absent.
    pub async fn problem_counts_as_of(
        &self,
        node: &Node,
        as_of: &str,
    ) -> Result<HashMap<String, ProblemCounts>> {
        let sql = format!(
            "SELECT w.village_code, COUNT(*) AS found, \
             SUM(CASE WHEN w.status IN ('open', 'reopened') THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN w.status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress, \
             SUM(CASE WHEN w.status = 'rectified' THEN 1 ELSE 0 END) AS rectified, \
             SUM(CASE WHEN w.status = 'verified' THEN 1 ELSE 0 END) AS verified, \
             SUM(w.overdue) AS overdue, SUM(w.extended) AS extended \
             FROM ({AS_OF}) w GROUP BY w.village_code"
        );
        let rows = sqlx::query(&sql)
            .bind(&node.path)
            .bind(baiqian_domain::org::path_upper_bound(&node.path))
            .bind(as_of)
            .bind(day_end_ms(as_of)?)
            .fetch_all(self.pool())
            .await?;
        let mut counts = HashMap::with_capacity(rows.len());
        for r in rows {
            let n = |c: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
            counts.insert(
                r.try_get::<String, _>("village_code")?,
                ProblemCounts {
                    found: n("found")?,
                    open: n("open")?,
                    in_progress: n("in_progress")?,
                    rectified: n("rectified")?,
                    verified: n("verified")?,
                    overdue: n("overdue")?,
                    extended: n("extended")?,
                },
            );
        }
        Ok(counts)
    }
}
