//! A leader's own work on their home (我的联系点): the places they guide with what is open and
//! late there, the visits they logged, and each of their pledges with how much is done and
//! whether it keeps pace with its dates.

use baiqian_domain::ledger::PledgePace;
use baiqian_store::ledger::Leader;

use super::*;

/// One place a leader guides, with its problems.
struct GuidedPlace {
    code: String,
    name: String,
    counts: ProblemCounts,
}

#[derive(Template)]
#[template(path = "ledger/leader_home.html")]
struct LeaderHome {
    tr: Tr,
    root: String,
    leaders: Vec<Leader>,
    places: Vec<GuidedPlace>,
    /// (leader id, visits logged) for each of the account's leaders.
    visits: Vec<(i64, i64)>,
    pledges: Vec<(Pledge, PledgePace)>,
}

/// A pledge's pace in words ("落后进度 47 个"), for the home and the pledges' file.
pub(super) fn pace_words(tr: Tr, pace: PledgePace) -> String {
    let key = format!("pledge.pace.{}", pace.as_str());
    match pace {
        PledgePace::Behind(n) | PledgePace::Missed(n) => tr.f(&key, &[("n", &tr.num(n))]),
        PledgePace::Done | PledgePace::OnTrack => tr.t(&key).to_string(),
    }
}

impl LeaderHome {
    fn percent(&self, p: &Pledge) -> i64 {
        super::visits::percent(p)
    }
    fn pace(&self, pace: &PledgePace) -> String {
        pace_words(self.tr, *pace)
    }
    fn late(&self, pace: &PledgePace) -> bool {
        matches!(pace, PledgePace::Behind(_) | PledgePace::Missed(_))
    }
    fn visits_of(&self, id: &i64) -> i64 {
        self.visits
            .iter()
            .find(|(l, _)| l == id)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

/// The part of the home for an account that is a leader; none for anyone else.
pub(crate) async fn home_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Option<String>, AppError> {
    let ids = state.db.leaders_of_user(me.user.id).await?;
    let Some(root) = me.scope().root.clone() else {
        return Ok(None);
    };
    if ids.is_empty() || !me.role().may(Capability::ReadVisits) {
        return Ok(None);
    }
    let own = state.db.org(me.scope(), &root).await?;
    let leaders: Vec<Leader> = state
        .db
        .leaders_under(&own)
        .await?
        .into_iter()
        .filter(|l| ids.contains(&l.id))
        .collect();
    if leaders.is_empty() {
        return Ok(None);
    }
    let mut places: Vec<GuidedPlace> = Vec::new();
    for (code, name) in leaders.iter().flat_map(|l| l.areas.iter()) {
        if places.iter().any(|p| &p.code == code) {
            continue;
        }
        let Ok(parsed) = OrgCode::parse(code) else {
            continue;
        };
        // A guided place since moved out of the account's scope is not theirs to read.
        let Ok(node) = state.db.org(me.scope(), &parsed).await else {
            continue;
        };
        places.push(GuidedPlace {
            code: code.clone(),
            name: name.clone(),
            counts: state.db.problem_counts(&node).await?,
        });
    }
    let visits = state.db.visit_counts_by_leader(&own).await?;
    let today = today(state);
    let mut pledges = Vec::new();
    for id in &ids {
        pledges.extend(
            state
                .db
                .pledges_of_leader(me.scope(), *id)
                .await?
                .into_iter()
                .filter_map(|p| {
                    PledgePace::of(&p.since, &p.due, &today, p.target, p.visited)
                        .map(|pace| (p, pace))
                }),
        );
    }
    let page = LeaderHome {
        tr,
        root: root.to_string(),
        leaders,
        places,
        visits,
        pledges,
    };
    Ok(Some(page.render().map_err(|e| {
        AppError::Internal(format!("template: {e}"))
    })?))
}
