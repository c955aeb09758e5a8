//! The rating round's part of each home: what waits for the reader at their stage of the
//! round (self-assessment, review, approval, publication, late villages), and their node's
//! figures this year.

use super::*;
use crate::task::Task;

/// Villages listed one by one on a task list; past that, one entry links to the whole list.
const TASKS_LISTED: usize = 30;

/// The rounds in progress covering the reader's node, newest first.
async fn open_rounds(state: &AppState, own: &Node) -> Result<Vec<Round>, AppError> {
    let mut out = Vec::new();
    for year in state.db.round_years(own).await? {
        if let Some(r) = state.db.round_for(own, year).await?
            && r.published_at.is_none()
        {
            out.push(r);
        }
    }
    Ok(out)
}

async fn own_node(state: &AppState, me: &CurrentUser) -> Result<Option<Node>, AppError> {
    match &me.actor.scope.root {
        Some(root) => Ok(Some(state.db.org(me.scope(), root).await?)),
        None => Ok(None),
    }
}

fn task_kind(stage: Stage) -> &'static str {
    match stage {
        Stage::Draft => "rating_self_assessment",
        Stage::Submitted => "rating_review",
        Stage::Reviewed => "rating_approval",
        Stage::Approved | Stage::Published => "rating_publication",
    }
}

/// The tallies one request has read: a home shows the same round's figures in its task list
/// and in its ratings part, and at province scale each costs a pass over the round.
#[derive(Default)]
pub(crate) struct SeenTallies(HashMap<(i64, String), Tally>);

impl SeenTallies {
    pub(super) async fn tally(
        &mut self,
        state: &AppState,
        round: &Round,
        node: &Node,
        today: &str,
    ) -> Result<Tally, AppError> {
        let key = (round.id, node.path.clone());
        if let Some(t) = self.0.get(&key) {
            return Ok(t.clone());
        }
        let t = state.db.rating_tally(round, node, today).await?;
        self.0.insert(key, t.clone());
        Ok(t)
    }
}

/// What waits for the reader in the rounds in progress: the assessments at the stage their
/// role acts on, and the villages past a deadline for those who oversee them.
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    seen: &mut SeenTallies,
) -> Result<Vec<Task>, AppError> {
    if !me.role().may(Capability::ReadRatings) {
        return Ok(Vec::new());
    }
    let Some(own) = own_node(state, me).await? else {
        return Ok(Vec::new());
    };
    let today = today(state);
    let acts_on = Stage::ALL
        .into_iter()
        .find(|s| s.actor() == Some(me.role()));
    let mut out = Vec::new();
    for round in open_rounds(state, &own).await? {
        let year = round.year.to_string();
        let tally = seen.tally(state, &round, &own, &today).await?;
        if let Some(stage) = acts_on {
            let kind = task_kind(stage);
            let due = round.due_of(stage).map(str::to_string);
            let waiting = Stage::ALL
                .iter()
                .position(|s| *s == stage)
                .map_or(0, |i| tally.stages[i]);
            if stage == Stage::Approved || waiting as usize > TASKS_LISTED {
                if waiting > 0 {
                    out.push(Task {
                        kind,
                        title: tr.f(
                            &format!("task.{kind}.many"),
                            &[("year", &year), ("n", &waiting.to_string())],
                        ),
                        url: format!(
                            "/orgs/{}/ratings/{year}/villages?stage={}",
                            own.code,
                            stage.as_str()
                        ),
                        due,
                    });
                }
            } else if waiting > 0 {
                let filter = AssessmentFilter {
                    stage: Some(stage),
                    ..Default::default()
                };
                let listed = state
                    .db
                    .assessments_under(&round, &own, &filter, &today, TASKS_LISTED as i64)
                    .await?;
                out.extend(listed.into_iter().map(|a| Task {
                    kind,
                    title: tr.f(
                        &format!("task.{kind}"),
                        &[("year", &year), ("village", &a.org_name)],
                    ),
                    url: format!("/orgs/{}/ratings/{year}", a.org_code),
                    due: due.clone(),
                }));
            }
        }
        if own.level != Level::Village && tally.late > 0 {
            out.push(Task {
                kind: "rating_late",
                title: tr.f(
                    "task.rating_late",
                    &[("year", &year), ("n", &tally.late.to_string())],
                ),
                url: format!("/orgs/{}/ratings/{year}/villages?late=1", own.code),
                due: None,
            });
        }
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "rating/home.html")]
struct RatingHome {
    tr: Tr,
    org: Node,
    year: i64,
    round: Option<Round>,
    tally: Tally,
    /// A village's own years (newest first).
    history: Vec<StarYear>,
    w: Words,
}

impl RatingHome {
    fn is_village(&self) -> bool {
        self.org.level == Level::Village
    }
}

/// The reader's node in the newest round: its stages, stars and classes (a village: its own
/// stage and years), each figure linking to the villages behind it.
pub(crate) async fn home_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    seen: &mut SeenTallies,
) -> Result<Option<String>, AppError> {
    if !me.role().may(Capability::ReadRatings) {
        return Ok(None);
    }
    let Some(org) = own_node(state, me).await? else {
        return Ok(None);
    };
    let year = state
        .db
        .round_years(&org)
        .await?
        .first()
        .copied()
        .unwrap_or_else(|| current_year(state));
    let round = state.db.round_for(&org, year).await?;
    let tally = match &round {
        Some(r) => seen.tally(state, r, &org, &today(state)).await?,
        None => Tally::default(),
    };
    let mut history = Vec::new();
    if org.level == Level::Village {
        history = state.db.star_history(me.scope(), &org).await?;
        history.reverse();
    }
    let page = RatingHome {
        tr,
        org,
        year,
        round,
        tally,
        history,
        w: Words(tr),
    };
    Ok(Some(page.render().map_err(|e| {
        AppError::Internal(format!("template: {e}"))
    })?))
}
