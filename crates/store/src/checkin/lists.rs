//! Who stands behind a month's attendance figures: the members of an organization who did not
//! attend, those who attended at another organization, and the months that have any figures.

use super::*;

/// A member of an organization as the attendance lists name them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AbsentMember {
    pub member_id: i64,
    pub name: String,
}

/// One attendance of a member at an organization other than their own.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttendedElsewhere {
    pub member_id: i64,
    pub name: String,
    pub host_code: String,
    pub host_name: String,
    pub at: i64,
}

/// One month's rollup of a node, as the attendance chart draws it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MonthAttendance {
    pub month: String,
    pub attended: i64,
    pub guests: i64,
    pub away: i64,
}

impl Db {
    /// The newest month up to `until` (`YYYY-MM`) in which anything was counted under the node:
    /// where its attendance page opens. One row of the rollup's key.
    pub async fn latest_attendance_month(
        &self,
        node: &Node,
        until: &str,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT month FROM attendance_rollup WHERE org_code = $1 AND month <= $2 \
             ORDER BY month DESC LIMIT 1",
        )
        .bind(node.code.as_str())
        .bind(until)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(m,)| m))
    }

    /// Where a node's attendance opens when no month is asked: the newest month with figures up
    /// to the month of `now_ms`, else that month.
    pub async fn opening_attendance_month(
        &self,
        node: &Node,
        now_ms: i64,
    ) -> Result<baiqian_domain::time::Month> {
        let this_month = month_of(now_ms);
        let month = self
            .latest_attendance_month(node, &this_month)
            .await?
            .unwrap_or(this_month);
        baiqian_domain::time::Month::parse(&month).ok_or(StoreError::NotFound)
    }

    /// The node's rollups from `from` to `to` (`YYYY-MM`, both included), oldest first; months
    /// without a row are absent.
    pub async fn attendance_months(
        &self,
        node: &Node,
        from: &str,
        to: &str,
    ) -> Result<Vec<MonthAttendance>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT month, attended, guests, away FROM attendance_rollup \
             WHERE org_code = $1 AND month >= $2 AND month <= $3 ORDER BY month",
        )
        .bind(node.code.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(month, attended, guests, away)| MonthAttendance {
                month,
                attended,
                guests,
                away,
            })
            .collect())
    }

    /// Members whose home is the node itself and who attended nowhere in `month`, by name; at
    /// most `limit`, and how many there are in all.
    pub async fn absent_members(
        &self,
        node: &Node,
        month: &str,
        limit: i64,
    ) -> Result<(Vec<AbsentMember>, i64)> {
        let from = "FROM members m WHERE m.home_org = $1 AND m.status = 'active' AND NOT EXISTS \
             (SELECT 1 FROM member_months mm WHERE mm.member_id = m.id AND mm.month = $2)";
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) {from}"))
            .bind(node.code.as_str())
            .bind(month)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT m.id, m.name {from} ORDER BY m.name, m.id LIMIT $3"
        ))
        .bind(node.code.as_str())
        .bind(month)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok((
            rows.into_iter()
                .map(|(member_id, name)| AbsentMember { member_id, name })
                .collect(),
            total,
        ))
    }

    /// Attendances in `month` of the node's own members at other organizations, in time order;
    /// at most `limit`, and how many there are in all.
    pub async fn attended_elsewhere(
        &self,
        node: &Node,
        month: &baiqian_domain::time::Month,
        limit: i64,
    ) -> Result<(Vec<AttendedElsewhere>, i64)> {
        let Some((start, end)) = month.span_ms() else {
            return Ok((Vec::new(), 0));
        };
        let from = "FROM checkins c JOIN members m ON m.id = c.member_id \
             JOIN orgs o ON o.code = c.host_org \
             WHERE c.home_org = $1 AND c.at >= $2 AND c.at < $3 AND c.host_org <> $1";
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) {from}"))
            .bind(node.code.as_str())
            .bind(start)
            .bind(end)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as(&format!(
            "SELECT m.id, m.name, o.code, o.name, c.at {from} ORDER BY c.at, c.id LIMIT $4"
        ))
        .bind(node.code.as_str())
        .bind(start)
        .bind(end)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok((
            rows.into_iter()
                .map(
                    |(member_id, name, host_code, host_name, at)| AttendedElsewhere {
                        member_id,
                        name,
                        host_code,
                        host_name,
                        at,
                    },
                )
                .collect(),
            total,
        ))
    }
}
