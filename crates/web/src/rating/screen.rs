//! The rating round's part of the meeting-room screen (数据大屏, assembled by `home::screen`):
//! the last published year's stars and classes, this year's round by stage, the late villages,
//! the latest month's activity-day attendance — each figure and each bar opening the list
//! behind it. It reads what the boards read; nothing here is its own data.

use super::*;

#[derive(Template)]
#[template(path = "rating/screen_part.html")]
struct RatingScreen {
    /// Which of the part's pieces this rendering is: `figures`, `bands` or `panels`.
    piece: &'static str,
    tr: Tr,
    org: Node,
    /// The newest published year, with its round's figures.
    published: Option<(i64, Tally)>,
    /// The newest round's year and figures (may be the published one).
    current: Option<(i64, Tally)>,
    /// The latest month with attendance figures, and them.
    month: String,
    attendance: baiqian_store::checkin::Attendance,
    has_children: bool,
}

impl RatingScreen {
    fn list(&self, year: &i64, query: &str) -> String {
        format!("/orgs/{}/ratings/{year}/villages?{query}", self.org.code)
    }

    fn chart(&self, year: &i64, name: &str) -> String {
        format!("/orgs/{}/ratings/{year}/chart/{name}", self.org.code)
    }

    fn attendance_chart(&self) -> String {
        format!(
            "/orgs/{}/attendance/chart?month={}",
            self.org.code, self.month
        )
    }

    /// A chart's caption, after its year when it has one (`0`: none).
    fn caption(&self, year: &i64, key: &str) -> String {
        if *year == 0 {
            self.tr.t(key).to_string()
        } else {
            format!("{year} {}", self.tr.t(key))
        }
    }

    fn rate(&self) -> String {
        self.attendance.rate_text()
    }

    fn stage_name(&self, s: &Stage) -> String {
        self.tr
            .t(&format!("rating.stage.{}", s.as_str()))
            .to_string()
    }

    fn class_name(&self, c: &VillageClass) -> String {
        self.tr
            .t(&format!("rating.class.{}", c.as_str()))
            .to_string()
    }
}

/// The rating round's figures, stages and charts on a node's screen.
pub(crate) async fn screen_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    org: &Node,
) -> Result<ScreenPart, AppError> {
    let today = today(state);
    let mut seen = SeenTallies::default();
    let (mut published, mut current) = (None, None);
    for year in state.db.round_years(org).await? {
        let Some(round) = state.db.round_for(org, year).await? else {
            continue;
        };
        if current.is_none() {
            current = Some((year, seen.tally(state, &round, org, &today).await?));
        }
        if round.published_at.is_some() {
            published = Some((year, seen.tally(state, &round, org, &today).await?));
            break;
        }
    }
    let month = state
        .db
        .opening_attendance_month(org, state.clock.now_ms())
        .await?
        .to_string();
    let attendance = state.db.attendance(me.scope(), &org.code, &month).await?;
    let has_children = !state
        .db
        .org_children(me.scope(), &org.code, false)
        .await?
        .is_empty();
    let mut part = RatingScreen {
        piece: "figures",
        tr,
        org: org.clone(),
        published,
        current,
        month,
        attendance,
        has_children,
    };
    let mut render = |piece| {
        part.piece = piece;
        part.render()
            .map_err(|e| AppError::Internal(format!("template: {e}")))
    };
    Ok(ScreenPart {
        figures: render("figures")?,
        bands: render("bands")?,
        panels: render("panels")?,
    })
}
