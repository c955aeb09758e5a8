//! The per-village tallies of problems (a board sums one row per village, not every problem),
//! kept in the transaction of each change; and the daily mark of what has become overdue.

use baiqian_domain::ledger::ProblemStatus;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::{Actor, Db, Result};

/// Problems under a node, by status: what `GET /api/v1/orgs/{code}/problems/summary` answers.
/// A reopened problem counts as open again.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProblemCounts {
    pub found: i64,
    pub open: i64,
    pub in_progress: i64,
    pub rectified: i64,
    pub verified: i64,
    pub overdue: i64,
    /// Unresolved, with a deadline extended past the original (延期).
    pub extended: i64,
}

/// One child of a node (a county, a township, a village) with its problems.
#[derive(Debug, Clone, Serialize)]
pub struct ChildCounts {
    pub code: String,
    pub name: String,
    pub level: String,
    pub counts: ProblemCounts,
}

fn column(s: ProblemStatus) -> &'static str {
    match s {
        ProblemStatus::Open => "open",
        ProblemStatus::InProgress => "in_progress",
        ProblemStatus::Rectified => "rectified",
        ProblemStatus::Verified => "verified",
        ProblemStatus::Reopened => "reopened",
    }
}

/// Which tallies a problem counts in: its village's, and its township's for its standard item
/// group (问题类别).
pub(super) struct Tallied<'a> {
    pub village_code: &'a str,
    pub village_path: &'a str,
    pub item_group: &'a str,
}

/// The path of a village's township: its own path without its last segment.
pub(super) fn township_path<'a>(village_path: &'a str, village_code: &str) -> &'a str {
    let cut = village_path.len().saturating_sub(village_code.len() + 1);
    village_path.get(..cut).unwrap_or(village_path)
}

/// The SQL expression of a problem row's township path, as [`township_path`] cuts it.
pub(super) const TOWNSHIP_PATH: &str =
    "substr(village_path, 1, length(village_path) - length(village_code) - 1)";

/// What one change adds to the overdue and extended counts (each -1, 0 or 1).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags {
    pub overdue: i64,
    pub extended: i64,
}

impl Flags {
    /// The change from a problem's flags as it was to its flags as it is.
    pub fn between(before: &super::Problem, after: &super::Problem) -> Flags {
        Flags {
            overdue: i64::from(after.overdue) - i64::from(before.overdue),
            extended: i64::from(after.extended) - i64::from(before.extended),
        }
    }
}

impl super::Problem {
    /// The tallies this problem counts in.
    pub(super) fn tallied(&self) -> Tallied<'_> {
        Tallied {
            village_code: &self.village_code,
            village_path: &self.village_path,
            item_group: &self.item_group,
        }
    }
}

/// Moves one problem from status `from` to `to` (either may be none) and adds `flags` to the
/// overdue and extended counts, in its village's tally and in its township's tally of its item
/// group.
pub(super) async fn bump(
    conn: &mut AnyConnection,
    of: &Tallied<'_>,
    from: Option<ProblemStatus>,
    to: Option<ProblemStatus>,
    flags: Flags,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO problem_tallies (village_code, village_path) VALUES ($1, $2) \
         ON CONFLICT (village_code) DO NOTHING",
    )
    .bind(of.village_code)
    .bind(of.village_path)
    .execute(&mut *conn)
    .await?;
    let township = township_path(of.village_path, of.village_code);
    sqlx::query(
        "INSERT INTO problem_group_tallies (township_path, item_group) VALUES ($1, $2) \
         ON CONFLICT (township_path, item_group) DO NOTHING",
    )
    .bind(township)
    .bind(of.item_group)
    .execute(&mut *conn)
    .await?;
    // The deltas are the change's own small integers, never input: written into the statement.
    let mut sets = vec![
        format!("overdue = overdue + {}", flags.overdue),
        format!("extended = extended + {}", flags.extended),
    ];
    if let Some(f) = from {
        sets.push(format!("{0} = {0} - 1", column(f)));
    }
    if let Some(t) = to {
        // The same column twice (a status kept) would be a syntax error; it is a no-op anyway.
        if from != Some(t) {
            sets.push(format!("{0} = {0} + 1", column(t)));
        } else {
            sets.pop();
        }
    }
    let sets = sets.join(", ");
    sqlx::query(&format!(
        "UPDATE problem_tallies SET {sets} WHERE village_code = $1"
    ))
    .bind(of.village_code)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "UPDATE problem_group_tallies SET {sets} WHERE township_path = $1 AND item_group = $2"
    ))
    .bind(township)
    .bind(of.item_group)
    .execute(conn)
    .await?;
    Ok(())
}

const SUMS: &str = "CAST(COALESCE(SUM(open), 0) AS BIGINT), \
    CAST(COALESCE(SUM(in_progress), 0) AS BIGINT), CAST(COALESCE(SUM(rectified), 0) AS BIGINT), \
    CAST(COALESCE(SUM(verified), 0) AS BIGINT), CAST(COALESCE(SUM(reopened), 0) AS BIGINT), \
    CAST(COALESCE(SUM(overdue), 0) AS BIGINT), CAST(COALESCE(SUM(extended), 0) AS BIGINT)";

/// A problems query's counts by status, overdue and extended, in the order of [`SUMS`] (problem columns
/// unqualified).
const RECOUNT: &str = concat!(
    "CAST(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN status = 'rectified' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN status = 'verified' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN status = 'reopened' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN ",
    super::late!(""),
    " THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN ",
    super::extended!(""),
    " THEN 1 ELSE 0 END) AS BIGINT)"
);

/// Rows of (township path, group, counts…) keyed "township path|group".
fn group_keyed(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(String, ProblemCounts)>> {
    rows.iter()
        .map(|r| {
            let key = format!(
                "{}|{}",
                r.try_get::<String, _>(0)?,
                r.try_get::<String, _>(1)?
            );
            Ok((key, counts_from(r, 2)?))
        })
        .collect()
}

fn counts_from(r: &sqlx::any::AnyRow, at: usize) -> Result<ProblemCounts> {
    let get = |i: usize| -> Result<i64> {
        // PostgreSQL's SUM of BIGINT is NUMERIC; the casts in the queries keep it an integer.
        Ok(r.try_get::<i64, _>(at + i)?)
    };
    let (open, in_progress, rectified, verified, reopened, overdue, extended) = (
        get(0)?,
        get(1)?,
        get(2)?,
        get(3)?,
        get(4)?,
        get(5)?,
        get(6)?,
    );
    Ok(ProblemCounts {
        found: open + in_progress + rectified + verified + reopened,
        open: open + reopened,
        in_progress,
        rectified,
        verified,
        overdue,
        extended,
    })
}

impl Db {
    /// The problems of the villages under a node, by status (from the tallies).
    pub async fn problem_counts(&self, node: &Node) -> Result<ProblemCounts> {
        let sql = format!(
            "SELECT {} FROM problem_tallies WHERE village_path >= $1 AND village_path < $2",
            SUMS
        );
        let r = sqlx::query(&sql)
            .bind(&node.path)
            .bind(baiqian_domain::org::path_upper_bound(&node.path))
            .fetch_one(self.pool())
            .await?;
        counts_from(&r, 0)
    }

    /// Each active child of a node with the problems of the villages under it.
    pub async fn problem_counts_by_child(&self, node: &Node) -> Result<Vec<ChildCounts>> {
        let children = sqlx::query(
            "SELECT code, name, level, path FROM orgs WHERE parent_code = $1 \
             AND retired_at IS NULL AND level IN ('county', 'township', 'village') ORDER BY code",
        )
        .bind(node.code.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(children.len());
        let lengths: std::collections::BTreeSet<usize> = children
            .iter()
            .map(|c| c.try_get::<String, _>("code").map(|c| c.len()))
            .collect::<std::result::Result<_, _>>()?;
        if let [len] = lengths.into_iter().collect::<Vec<_>>().as_slice() {
            // Children's codes all of one length: one pass over the tallies, grouped by the
            // path segment right below the node (a province's 100 counties in one query).
            let sql = format!(
                "SELECT substr(village_path, {start}, {len}) AS child, {SUMS} FROM problem_tallies \
                 WHERE village_path >= $1 AND village_path < $2 GROUP BY substr(village_path, {start}, {len})",
                start = node.path.chars().count() + 1,
            );
            let mut sums = std::collections::HashMap::new();
            for r in sqlx::query(&sql)
                .bind(&node.path)
                .bind(baiqian_domain::org::path_upper_bound(&node.path))
                .fetch_all(self.pool())
                .await?
            {
                sums.insert(r.try_get::<String, _>("child")?, counts_from(&r, 1)?);
            }
            for c in children {
                let code: String = c.try_get("code")?;
                out.push(ChildCounts {
                    counts: sums.remove(&code).unwrap_or_default(),
                    code,
                    name: c.try_get("name")?,
                    level: c.try_get("level")?,
                });
            }
            return Ok(out);
        }
        let sql = format!(
            "SELECT {SUMS} FROM problem_tallies WHERE village_path >= $1 AND village_path < $2"
        );
        for c in children {
            let path: String = c.try_get("path")?;
            let r = sqlx::query(&sql)
                .bind(&path)
                .bind(baiqian_domain::org::path_upper_bound(&path))
                .fetch_one(self.pool())
                .await?;
            out.push(ChildCounts {
                code: c.try_get("code")?,
                name: c.try_get("name")?,
                level: c.try_get("level")?,
                counts: counts_from(&r, 0)?,
            });
        }
        Ok(out)
    }

    /// The daily job: moves the mark to `today` (`YYYY-MM-DD`), so every unresolved problem due
    /// before it is overdue, and adds those that became so since the last mark to their
    /// villages' tallies, in one transaction; returns how many became overdue. A day already
    /// marked changes nothing. Only one day's deadlines are read (the partial index of the
    /// unresolved by deadline) and no problem row is written.
    pub async fn mark_overdue_problems(&self, actor: &Actor, today: &str, now: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let marked = super::marked_day(tx.conn()).await?;
        if today <= marked.as_str() {
            return Ok(0);
        }
        const SINCE: &str = "status IN ('open', 'in_progress', 'reopened') \
                             AND deadline >= $1 AND deadline < $2";
        let newly: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM problems WHERE {SINCE}"))
            .bind(&marked)
            .bind(today)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        if newly > 0 {
            sqlx::query(&format!(
                "UPDATE problem_tallies SET overdue = problem_tallies.overdue + late.n \
                 FROM (SELECT village_code, COUNT(*) AS n FROM problems WHERE {SINCE} \
                 GROUP BY village_code) AS late WHERE problem_tallies.village_code = late.village_code"
            ))
            .bind(&marked)
            .bind(today)
            .execute(tx.conn())
            .await?;
            sqlx::query(&format!(
                "UPDATE problem_group_tallies SET overdue = problem_group_tallies.overdue + late.n \
                 FROM (SELECT {TOWNSHIP_PATH} AS township_path, item_group, COUNT(*) AS n \
                 FROM problems WHERE {SINCE} GROUP BY {TOWNSHIP_PATH}, item_group) AS late \
                 WHERE problem_group_tallies.township_path = late.township_path \
                 AND problem_group_tallies.item_group = late.item_group"
            ))
            .bind(&marked)
            .bind(today)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("UPDATE ledger_state SET marked_day = $1 WHERE id = 1")
            .bind(today)
            .execute(tx.conn())
            .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::update(
                "problem_overdue",
                today,
                "/",
                serde_json::json!({"marked_day": marked}),
                serde_json::json!({"marked_day": today, "problems": newly}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(u64::try_from(newly).unwrap_or(0))
    }

    /// The tallies recomputed from the problems themselves, by village, for tests and checks:
    /// what the kept tallies must equal.
    pub async fn problem_tallies_recounted(&self) -> Result<Vec<(String, ProblemCounts)>> {
        let sql = format!(
            "SELECT village_code, {RECOUNT} FROM problems GROUP BY village_code ORDER BY village_code"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push((r.try_get(0)?, counts_from(&r, 1)?));
        }
        Ok(out)
    }

    /// The townships' tallies by item group recomputed from the problems, keyed
    /// "township path|group": what the kept group tallies must equal.
    pub async fn problem_group_tallies_recounted(&self) -> Result<Vec<(String, ProblemCounts)>> {
        let sql = format!(
            "SELECT {TOWNSHIP_PATH} AS township_path, item_group, {RECOUNT} FROM problems \
             GROUP BY {TOWNSHIP_PATH}, item_group ORDER BY 1, 2"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        group_keyed(&rows)
    }

    /// The kept group tallies (non-empty ones), in the recount's shape.
    pub async fn problem_group_tallies_kept(&self) -> Result<Vec<(String, ProblemCounts)>> {
        let rows = sqlx::query(
            "SELECT township_path, item_group, open, in_progress, rectified, verified, reopened, \
             overdue, extended FROM problem_group_tallies \
             WHERE open + in_progress + rectified + verified + reopened > 0 ORDER BY 1, 2",
        )
        .fetch_all(self.pool())
        .await?;
        group_keyed(&rows)
    }

    /// The problems under a node by standard item group (问题类别), groups in order of name:
    /// a village's from its problems, a township's and above from the townships' group tallies.
    pub async fn problem_counts_by_group(
        &self,
        node: &Node,
    ) -> Result<Vec<(String, ProblemCounts)>> {
        let rows = if node.level == baiqian_domain::org::Level::Village {
            let sql = format!(
                "SELECT item_group, {RECOUNT} FROM problems WHERE village_code = $1 \
                 GROUP BY item_group ORDER BY item_group"
            );
            sqlx::query(&sql)
                .bind(node.code.as_str())
                .fetch_all(self.pool())
                .await?
        } else {
            let sql = format!(
                "SELECT item_group, {SUMS} FROM problem_group_tallies \
                 WHERE township_path >= $1 AND township_path < $2 \
                 GROUP BY item_group ORDER BY item_group"
            );
            sqlx::query(&sql)
                .bind(&node.path)
                .bind(baiqian_domain::org::path_upper_bound(&node.path))
                .fetch_all(self.pool())
                .await?
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let counts = counts_from(&r, 1)?;
            if counts.found > 0 {
                out.push((r.try_get(0)?, counts));
            }
        }
        Ok(out)
    }

    /// The kept tallies by village (non-empty ones), in the recount's shape.
    pub async fn problem_tallies_kept(&self) -> Result<Vec<(String, ProblemCounts)>> {
        let rows = sqlx::query(
            "SELECT village_code, open, in_progress, rectified, verified, reopened, overdue, \
             extended FROM problem_tallies WHERE open + in_progress + rectified + verified + reopened > 0 \
             ORDER BY village_code",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push((r.try_get(0)?, counts_from(&r, 1)?));
        }
        Ok(out)
    }
}
