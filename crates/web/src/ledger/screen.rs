//! The ledger's part of the meeting-room screen (assembled by `home::screen`): the node's
//! problems waiting for work, waiting for a check and overdue, the leaders' visits, and the
//! pledges of the leaders at and under the node with how much is done and whether they keep
//! pace — the furthest behind first. Each figure opens its list.

use baiqian_domain::ledger::PledgePace;

use crate::frame::ScreenPart;

use super::*;

/// The pledges the screen names; the rest are on the pledges' page.
const SCREEN_PLEDGES: usize = 5;

#[derive(Template)]
#[template(path = "ledger/screen_part.html")]
struct LedgerScreen {
    /// Which of the part's pieces this rendering is: `figures` or `panels`.
    piece: &'static str,
    tr: Tr,
    org: Node,
    /// The node's problems, for a role that reads them.
    counts: Option<ProblemCounts>,
    /// The visits logged under the node, and the pledges named, for a role that reads them.
    visits: Option<i64>,
    pledges: Vec<(Pledge, PledgePace)>,
    /// Of how many pledges under the node.
    pledge_count: usize,
}

impl LedgerScreen {
    fn percent(&self, p: &Pledge) -> i64 {
        super::visits::percent(p)
    }
    fn pace(&self, pace: &PledgePace) -> String {
        super::leader::pace_words(self.tr, *pace)
    }
    fn late(&self, pace: &PledgePace) -> bool {
        matches!(pace, PledgePace::Behind(_) | PledgePace::Missed(_))
    }
}

/// The ledger's figures and the leaders' pledges on a node's screen; none for a role that reads
/// neither problems nor visits.
pub(crate) async fn screen_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    org: &Node,
) -> Result<Option<ScreenPart>, AppError> {
    let reads_problems = me.role().may(Capability::ReadProblems);
    let reads_visits = me.role().may(Capability::ReadVisits);
    if !reads_problems && !reads_visits {
        return Ok(None);
    }
    let counts = if reads_problems {
        Some(state.db.problem_counts(org).await?)
    } else {
        None
    };
    let (visits, mut pledges) = if reads_visits {
        let today = today(state);
        let pledges: Vec<(Pledge, PledgePace)> = super::pledges_under(state, me, org)
            .await?
            .into_iter()
            .filter_map(|p| {
                PledgePace::of(&p.since, &p.due, &today, p.target, p.visited).map(|pace| (p, pace))
            })
            .collect();
        (Some(state.db.count_visits_under(org, None).await?), pledges)
    } else {
        (None, Vec::new())
    };
    pledges.sort_by(|(a, pa), (b, pb)| {
        pb.urgency()
            .cmp(&pa.urgency())
            .then_with(|| a.due.cmp(&b.due))
            .then(a.id.cmp(&b.id))
    });
    let pledge_count = pledges.len();
    pledges.truncate(SCREEN_PLEDGES);
    let mut part = LedgerScreen {
        piece: "figures",
        tr,
        org: org.clone(),
        counts,
        visits,
        pledges,
        pledge_count,
    };
    let mut render = |piece| {
        part.piece = piece;
        part.render()
            .map_err(|e| AppError::Internal(format!("template: {e}")))
    };
    Ok(Some(ScreenPart {
        figures: render("figures")?,
        bands: String::new(),
        panels: render("panels")?,
    }))
}
