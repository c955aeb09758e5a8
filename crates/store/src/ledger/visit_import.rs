//! A visit log (走访台账) brought in from officials' own sheets: leaders and places by name,
//! kinds in their words, every bad cell reported by row and column, all or only the good rows.

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::VisitKind;
use baiqian_domain::org::Level;
use baiqian_domain::role::Role;
use baiqian_domain::time::china_date;
use sqlx::{AnyConnection, Row};

use super::visit::insert_visit_audited;
use super::{NewVisit, date, denied, optional};
use crate::import::{ImportError, ImportMode, ImportOutcome, pick_org};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

/// One row of a visit log as read from a sheet.
#[derive(Debug, Clone, Default)]
pub struct VisitRow {
    /// The sheet's row number (1-based), for the report.
    pub row: usize,
    /// The leader's name as the log writes it.
    pub leader: String,
    pub visited_on: String,
    /// The township or village visited, by name or code, under the page's node.
    pub place: String,
    pub kind: String,
    pub findings: String,
}

/// The leaders in the actor's reach, as an import names them: a leader's account reaches only
/// the leaders it speaks for.
pub(super) async fn leaders_in_reach(
    conn: &mut AnyConnection,
    actor: &Actor,
) -> Result<Vec<(i64, String)>> {
    sqlx::query(
        "SELECT id, name, user_id FROM leaders WHERE org_path >= $1 AND org_path < $2 ORDER BY id",
    )
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_all(conn)
    .await?
    .iter()
    .filter(|r| {
        actor.role != Role::Leader
            || r.try_get::<Option<i64>, _>("user_id").ok().flatten() == actor.user_id
    })
    .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
    .collect()
}

/// The one leader a cell names (id and name); none, or two of that name, is the cell's error.
pub(super) fn pick_leader(
    leaders: &[(i64, String)],
    cell: &str,
) -> std::result::Result<(i64, String), Msg> {
    let name = cell.trim();
    let named: Vec<&(i64, String)> = leaders.iter().filter(|(_, n)| n == name).collect();
    match named.as_slice() {
        [one] => Ok((one.0, one.1.clone())),
        [] => Err(Msg::new("visit.error.leader_unknown").arg("name", name)),
        _ => Err(Msg::new("visit.error.leader_ambiguous").arg("name", name)),
    }
}

impl Db {
    /// Imports a visit log into the places under `node`. A leader is named as the leaders in
    /// the caller's reach are (a leader's account brings only its own visits); a name that fits
    /// no one, or two, is the cell's error. With `AllOrNothing` any bad row writes nothing.
    pub async fn import_visit_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[VisitRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::LogVisits) {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        let leaders = leaders_in_reach(tx.conn(), actor).await?;
        let places =
            crate::kernel::orgs_under(tx.conn(), actor, node, "'township', 'village'").await?;
        let mut errors = Vec::new();
        let mut good: Vec<NewVisit> = Vec::new();
        for r in rows {
            let before = errors.len();
            let mut bad = |column: &'static str, msg: Msg| {
                errors.push(ImportError {
                    row: r.row,
                    column,
                    msg,
                })
            };
            let leader = match pick_leader(&leaders, &r.leader) {
                Ok((id, _)) => Some(id),
                Err(msg) => {
                    bad("leader", msg);
                    None
                }
            };
            let visited_on = match date(&r.visited_on, "visited_on") {
                Ok(d) if d.as_str() > today.as_str() => {
                    bad("visited_on", Msg::new("visit.error.future"));
                    None
                }
                Ok(d) => Some(d),
                Err(StoreError::Invalid(m)) => {
                    bad("visited_on", m);
                    None
                }
                Err(e) => return Err(e),
            };
            let place = match pick_org(&places, &r.place) {
                Ok(o) if matches!(o.level, Level::Township | Level::Village) => Some(o),
                Ok(o) => {
                    bad(
                        "place",
                        Msg::new("visit.error.place_level").arg("code", o.code.as_str()),
                    );
                    None
                }
                Err(m) => {
                    bad("place", m);
                    None
                }
            };
            let kind = VisitKind::from_word(&r.kind);
            if kind.is_none() {
                bad(
                    "kind",
                    Msg::new("visit.error.kind").arg("value", r.kind.trim()),
                );
            }
            let findings = match optional(&r.findings, 2000, "findings") {
                Ok(f) => Some(f),
                Err(StoreError::Invalid(m)) => {
                    bad("findings", m);
                    None
                }
                Err(e) => return Err(e),
            };
            if errors.len() > before {
                continue;
            }
            if let (Some(leader_id), Some(visited_on), Some(place), Some(kind), Some(findings)) =
                (leader, visited_on, place, kind, findings)
            {
                good.push(NewVisit {
                    leader_id,
                    visited_on,
                    place: place.code.as_str().to_string(),
                    kind: kind.as_str().to_string(),
                    findings,
                });
            }
        }
        if (!errors.is_empty() && mode == ImportMode::AllOrNothing) || good.is_empty() {
            return Ok(ImportOutcome {
                errors,
                committed: false,
                ..ImportOutcome::default()
            });
        }
        for new in &good {
            insert_visit_audited(tx.conn(), actor, new, &today, now).await?;
        }
        tx.commit().await?;
        Ok(ImportOutcome {
            created: good.len(),
            errors,
            committed: true,
            ..ImportOutcome::default()
        })
    }
}
