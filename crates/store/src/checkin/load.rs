//! Loading many activity days and check-ins at once (the demo's year, the benchmarks' worlds),
//! with multi-row statements on SQLite and COPY on PostgreSQL.

use super::*;

/// A check-in for bulk loading (the demo's year of activity days): trusted, not re-checked.
#[derive(Debug, Clone)]
pub struct BulkCheckin {
    pub event_id: i64,
    pub member_id: i64,
    pub at: i64,
}

/// The home of every member and the host of every activity day, for bulk loads.
pub struct CheckinLoader {
    members: std::collections::HashMap<i64, (String, String)>,
    events: std::collections::HashMap<i64, (String, String)>,
}

/// The PostgreSQL bulk path: check-ins and member-months by `COPY`, rollups by upsert, one
/// transaction.
pub(super) async fn copy_checkins_pg(
    pool: &sqlx::PgPool,
    accepted: &[(&BulkCheckin, String, String)],
    months: std::collections::HashSet<(i64, String)>,
    deltas: &BTreeMap<(String, String), (i64, i64, i64)>,
    now: i64,
) -> Result<()> {
    use crate::backend::postgres::copy_rows;
    use std::fmt::Write;
    let mut tx = pool.begin().await?;
    // Codes and client ids hold no tab, newline or backslash: nothing to escape.
    copy_rows(
        &mut tx,
        "COPY checkins (client_id, event_id, member_id, home_org, host_org, at, method, created_at) FROM STDIN",
        accepted,
        |buf, (r, home, host)| {
            let _ = write!(
                buf,
                "demo-{}-{}\t{}\t{}\t{home}\t{host}\t{}\tcard\t{now}",
                r.event_id, r.member_id, r.event_id, r.member_id, r.at
            );
        },
    )
    .await?;
    copy_rows(
        &mut tx,
        "COPY member_months (member_id, month) FROM STDIN",
        &months,
        |buf, (m, month)| {
            let _ = write!(buf, "{m}\t{month}");
        },
    )
    .await?;
    batch::rollups_pg(&mut tx, deltas).await?;
    tx.commit().await?;
    Ok(())
}

impl Db {
    /// Loads activity days in multi-row statements; returns their ids in order.
    pub async fn bulk_load_events(
        &self,
        actor: &Actor,
        events: &[NewEvent],
        secret: &str,
        now: i64,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write().await?;
        let first: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM activity_days")
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let mut ids = Vec::with_capacity(events.len());
        let per_statement = crate::bulk::rows_per_statement(9);
        for (n, chunk) in events.chunks(per_statement).enumerate() {
            let sql = format!(
                "INSERT INTO activity_days (id, org_code, day, starts_at, ends_at, topic, place, qr_secret, created_at) VALUES {}",
                crate::bulk::values(&crate::bulk::plain_row(9), 9, chunk.len(), 1)
            );
            let mut q = sqlx::query(&sql);
            for (k, e) in chunk.iter().enumerate() {
                let id = first + (n * per_statement + k) as i64;
                ids.push(id);
                q = q
                    .bind(id)
                    .bind(e.org.as_str().to_string())
                    .bind(e.day.clone())
                    .bind(e.starts_at)
                    .bind(e.ends_at)
                    .bind(e.topic.clone())
                    .bind(e.place.clone())
                    .bind(format!("{secret}-{id}"))
                    .bind(now);
            }
            q.execute(tx.conn()).await?;
        }
        self.after_explicit_ids(tx.conn(), "activity_days").await?;
        let change = Change {
            action: "bulk_load",
            entity: "activity_day",
            key: format!("{}..{}", first, first + events.len() as i64 - 1),
            org_path: "/".into(),
            before: None,
            after: Some(json!({ "rows": events.len() })),
            reason: None,
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Where every member and activity day belongs, read once for many bulk loads.
    pub async fn checkin_loader(&self) -> Result<CheckinLoader> {
        let members = sqlx::query_as::<_, (i64, String, String)>(
            "SELECT m.id, m.home_org, o.path FROM members m JOIN orgs o ON o.code = m.home_org",
        )
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(id, home, path)| (id, (home, path)))
        .collect();
        let events = sqlx::query_as::<_, (i64, String, String)>(
            "SELECT e.id, e.org_code, o.path FROM activity_days e JOIN orgs o ON o.code = e.org_code",
        )
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|(id, org, path)| (id, (org, path)))
        .collect();
        Ok(CheckinLoader { members, events })
    }

    /// Loads check-ins with their member-months and rollups, as `apply_checkins` would have kept
    /// them (a test compares the rollups with a recount).
    pub async fn bulk_load_checkins(&self, rows: &[BulkCheckin], now: i64) -> Result<()> {
        let loader = self.checkin_loader().await?;
        self.load_checkins(&loader, rows, now).await
    }

    /// `bulk_load_checkins` with the members and activity days already read. Rows of one call
    /// must not share a member and month with check-ins already stored (loads go month by
    /// month). On PostgreSQL the rows go in by `COPY`, in one transaction with their rollups.
    pub async fn load_checkins(
        &self,
        loader: &CheckinLoader,
        rows: &[BulkCheckin],
        now: i64,
    ) -> Result<()> {
        use std::collections::HashSet;
        let (members, events) = (&loader.members, &loader.events);
        let mut deltas: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        let mut months: HashSet<(i64, String)> = HashSet::new();
        let mut accepted = Vec::with_capacity(rows.len());
        for r in rows {
            let (Some((home, home_path)), Some((host, host_path))) =
                (members.get(&r.member_id), events.get(&r.event_id))
            else {
                continue;
            };
            let month = month_of(r.at);
            let first = months.insert((r.member_id, month.clone()));
            count_attendance(&mut deltas, home_path, host_path, &month, first);
            accepted.push((r, home.clone(), host.clone()));
        }
        if let Some(pg) = self.pg_typed() {
            return copy_checkins_pg(pg, &accepted, months, &deltas, now).await;
        }
        let mut tx = self.write().await?;
        for chunk in accepted.chunks(crate::bulk::rows_per_statement(6)) {
            // The last parameter, `now`, is shared by every row.
            let row = format!("(?1, ?2, ?3, ?4, ?5, ?6, 'card', ${})", chunk.len() * 6 + 1);
            let sql = format!(
                "INSERT INTO checkins (client_id, event_id, member_id, home_org, host_org, at, method, created_at) VALUES {}",
                crate::bulk::values(&row, 6, chunk.len(), 1)
            );
            let mut q = sqlx::query(&sql);
            for (r, home, host) in chunk {
                q = q
                    .bind(format!("demo-{}-{}", r.event_id, r.member_id))
                    .bind(r.event_id)
                    .bind(r.member_id)
                    .bind(home.clone())
                    .bind(host.clone())
                    .bind(r.at);
            }
            q.bind(now).execute(tx.conn()).await?;
        }
        let months: Vec<(i64, String)> = months.into_iter().collect();
        for chunk in months.chunks(crate::bulk::rows_per_statement(2)) {
            let sql = format!(
                "INSERT INTO member_months (member_id, month) VALUES {}",
                crate::bulk::values("(?1, ?2)", 2, chunk.len(), 1)
            );
            let mut q = sqlx::query(&sql);
            for (m, month) in chunk {
                q = q.bind(*m).bind(month.clone());
            }
            q.execute(tx.conn()).await?;
        }
        apply_deltas(tx.conn(), &deltas).await?;
        tx.commit().await?;
        Ok(())
    }
}
