//! A board's figures of the stations under a node: requests received, waiting, in hand, done
//! and withdrawn; the mean time to a volunteer's assignment and to done; the mean feedback
//! score. Summed from `station_tallies` (one row a station and service), which every change
//! moves in its own transaction, so a province's board sums tallies, not a million requests.

use baiqian_domain::org::path_upper_bound;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::kernel::Node;
use crate::{Db, Result};

/// The figures of some requests.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StationTotals {
    pub received: i64,
    pub waiting: i64,
    pub in_hand: i64,
    pub done: i64,
    pub withdrawn: i64,
    /// Sums behind the means (ms), and how many each mean is over.
    pub response_ms: i64,
    pub responded: i64,
    pub completion_ms: i64,
    pub score_sum: i64,
    pub scored: i64,
}

impl StationTotals {
    /// Mean minutes from a request to its volunteer.
    pub fn response_minutes(&self) -> Option<f64> {
        (self.responded > 0).then(|| self.response_ms as f64 / self.responded as f64 / 60_000.0)
    }

    /// Mean hours from a request to done.
    pub fn completion_hours(&self) -> Option<f64> {
        (self.done > 0).then(|| self.completion_ms as f64 / self.done as f64 / 3_600_000.0)
    }

    /// Mean feedback score (1–5).
    pub fn score(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum as f64 / self.scored as f64)
    }

    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            received: r.try_get("received")?,
            waiting: r.try_get("waiting")?,
            in_hand: r.try_get("in_hand")?,
            done: r.try_get("done")?,
            withdrawn: r.try_get("withdrawn")?,
            response_ms: r.try_get("response_ms")?,
            responded: r.try_get("responded")?,
            completion_ms: r.try_get("completion_ms")?,
            score_sum: r.try_get("score_sum")?,
            scored: r.try_get("scored")?,
        })
    }
}

/// One station's figures on a board.
#[derive(Debug, Clone, Serialize)]
pub struct StationFigures {
    pub station_id: i64,
    pub name: String,
    pub org_name: String,
    pub totals: StationTotals,
}

/// One service's figures at a station.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceFigures {
    pub service_id: i64,
    pub name: String,
    pub totals: StationTotals,
}

const SUMS: &str = "CAST(COALESCE(SUM(t.received), 0) AS BIGINT) AS received, \
    CAST(COALESCE(SUM(t.waiting), 0) AS BIGINT) AS waiting, \
    CAST(COALESCE(SUM(t.in_hand), 0) AS BIGINT) AS in_hand, \
    CAST(COALESCE(SUM(t.done), 0) AS BIGINT) AS done, \
    CAST(COALESCE(SUM(t.withdrawn), 0) AS BIGINT) AS withdrawn, \
    CAST(COALESCE(SUM(t.response_ms), 0) AS BIGINT) AS response_ms, \
    CAST(COALESCE(SUM(t.responded), 0) AS BIGINT) AS responded, \
    CAST(COALESCE(SUM(t.completion_ms), 0) AS BIGINT) AS completion_ms, \
    CAST(COALESCE(SUM(t.score_sum), 0) AS BIGINT) AS score_sum, \
    CAST(COALESCE(SUM(t.scored), 0) AS BIGINT) AS scored";

impl Db {
    /// How many stations are at and under a node.
    pub async fn station_count_under(&self, node: &Node) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM stations WHERE org_path >= $1 AND org_path < $2")
                .bind(&node.path)
                .bind(path_upper_bound(&node.path))
                .fetch_one(self.pool())
                .await?
                .try_get(0)?,
        )
    }

    /// The figures of a page of the stations under a node (those without a request too), by
    /// place: the page's stations first, then only their tallies, by their key — a province's
    /// page sums 100 stations' rows, not its 54,000.
    pub async fn station_figures_under(
        &self,
        node: &Node,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<StationFigures>> {
        let columns: Vec<String> = super::TALLY_COLUMNS
            .iter()
            .map(|c| format!("COALESCE(t.{c}, 0) AS {c}"))
            .collect();
        let page = "SELECT id FROM stations WHERE org_path >= $1 AND org_path < $2 \
                    ORDER BY org_path, id LIMIT $3 OFFSET $4";
        sqlx::query(&format!(
            "SELECT s.id, s.name, o.name AS org_name, {} FROM stations s \
             JOIN orgs o ON o.code = s.org_code LEFT JOIN (SELECT t.station_id, {SUMS} \
             FROM station_tallies t WHERE t.station_id IN ({page}) GROUP BY t.station_id) t \
             ON t.station_id = s.id WHERE s.id IN ({page}) ORDER BY s.org_path, s.id",
            columns.join(", ")
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(StationFigures {
                station_id: r.try_get("id")?,
                name: r.try_get("name")?,
                org_name: r.try_get("org_name")?,
                totals: StationTotals::from_row(r)?,
            })
        })
        .collect()
    }

    /// The figures of all the requests under a node.
    pub async fn station_totals_under(&self, node: &Node) -> Result<StationTotals> {
        let r = sqlx::query(&format!(
            "SELECT {SUMS} FROM station_tallies t WHERE t.org_path >= $1 AND t.org_path < $2"
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_one(self.pool())
        .await?;
        StationTotals::from_row(&r)
    }

    /// A station's figures by service, for the services it offers or was asked for.
    pub async fn station_service_figures(&self, station_id: i64) -> Result<Vec<ServiceFigures>> {
        sqlx::query(&format!(
            "SELECT v.id, v.name, {SUMS} FROM station_services v \
             LEFT JOIN station_tallies t ON t.service_id = v.id AND t.station_id = $1 \
             WHERE v.id IN (SELECT service_id FROM station_offers WHERE station_id = $1) \
             OR v.id IN (SELECT service_id FROM station_tallies WHERE station_id = $1) \
             GROUP BY v.id, v.name, v.domain ORDER BY v.domain, v.id"
        ))
        .bind(station_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(ServiceFigures {
                service_id: r.try_get("id")?,
                name: r.try_get("name")?,
                totals: StationTotals::from_row(r)?,
            })
        })
        .collect()
    }

    /// Recomputes every (station, service)'s figures from the requests (after a load made
    /// outside the application, as the benchmark's; and to check the kept figures).
    pub async fn refresh_all_station_tallies(&self) -> Result<()> {
        let mut tx = self.write().await?;
        refresh_tallies(tx.conn()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Every (station, service)'s figures from its requests, in the caller's transaction.
pub(super) async fn refresh_tallies(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM station_tallies")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO station_tallies (station_id, service_id, org_path, received, waiting, \
         in_hand, done, withdrawn, response_ms, responded, completion_ms, score_sum, scored) \
         SELECT station_id, service_id, MIN(org_path), COUNT(*), \
         SUM(CASE WHEN status = 'received' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'assigned' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END), \
         COALESCE(SUM(CASE WHEN assigned_at IS NOT NULL AND assigned_at > received_at \
             THEN assigned_at - received_at ELSE 0 END), 0), \
         SUM(CASE WHEN assigned_at IS NOT NULL THEN 1 ELSE 0 END), \
         COALESCE(SUM(CASE WHEN status = 'done' AND done_at > received_at \
             THEN done_at - received_at ELSE 0 END), 0), \
         COALESCE(SUM(COALESCE(feedback_score, 0)), 0), \
         SUM(CASE WHEN feedback_score IS NOT NULL THEN 1 ELSE 0 END) \
         FROM service_requests GROUP BY station_id, service_id",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
