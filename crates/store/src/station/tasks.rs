//! What waits at the stations for a reader (`/api/v1/me/tasks`): the requests given to them,
//! and for the keepers of a station's place and the one above, those given to nobody yet.

use baiqian_domain::capability::Capability;
use sqlx::Row;

use super::request::REQUEST_FROM;
use crate::{Actor, Db, Result};

/// A request waiting for the reader: given to them to do (`mine`), or for a keeper near the
/// station, given to nobody yet.
#[derive(Debug, Clone)]
pub struct StationTask {
    pub id: i64,
    pub service: String,
    pub station: String,
    pub mine: bool,
}

impl Db {
    /// The requests waiting for the actor: those given to them, and for a keeper those at
    /// stations of their node and the one below not given to anyone yet (oldest first).
    pub async fn station_tasks(&self, actor: &Actor) -> Result<Vec<StationTask>> {
        let mut tasks: Vec<StationTask> = sqlx::query(&format!(
            "SELECT r.id, v.name AS service, s.name AS station FROM {REQUEST_FROM} \
             WHERE r.assigned_to = $1 AND r.status = 'assigned' ORDER BY r.received_at LIMIT 50"
        ))
        .bind(&actor.login)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(StationTask {
                id: r.try_get("id")?,
                service: r.try_get("service")?,
                station: r.try_get("station")?,
                mine: true,
            })
        })
        .collect::<Result<_>>()?;
        if actor.role.may(Capability::KeepStations) {
            let root = actor.scope.lower();
            for r in sqlx::query(&format!(
                "SELECT r.id, v.name AS service, s.name AS station, s.org_path AS station_path \
                 FROM {REQUEST_FROM} WHERE r.status = 'received' AND r.org_path >= $1 \
                 AND r.org_path < $2 ORDER BY r.received_at LIMIT 200"
            ))
            .bind(root)
            .bind(actor.scope.upper())
            .fetch_all(self.pool())
            .await?
            {
                let path: String = r.try_get("station_path")?;
                if crate::kernel::within_levels(root, &path, 1) {
                    tasks.push(StationTask {
                        id: r.try_get("id")?,
                        service: r.try_get("service")?,
                        station: r.try_get("station")?,
                        mine: false,
                    });
                }
            }
        }
        Ok(tasks)
    }
}
