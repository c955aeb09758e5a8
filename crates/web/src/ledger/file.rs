//! The situation file (村情档案) of a village for a year, printable on one A5 or A4 page, and
//! the files of every village under a township, county or city as a table and an `.xlsx`.

use baiqian_domain::ledger::AGE_BANDS;
use baiqian_store::ledger::{FileForm, VillageFile, file_day, tenths};

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct FileQuery {
    year: Option<i64>,
    paper: Option<String>,
    /// The list above a village: a page of `FILES_PAGE` rows, and a name to look for.
    page: Option<String>,
    q: Option<String>,
}

/// Rows per page of the files above a village.
const FILES_PAGE: usize = 100;

/// The open problems a village's file lists in full; more are counted and linked.
const FILE_PROBLEMS: usize = 100;

/// The year asked for (this year by default) and the day its ages are counted on; a year not
/// yet begun, or before 2000, leads nowhere.
fn year_of(state: &AppState, asked: Option<i64>) -> Result<(i64, String), AppError> {
    let today = today(state);
    let year = asked.unwrap_or_else(|| today[..4].parse().unwrap_or(2000));
    let as_of = file_day(year, &today).map_err(|_| AppError::NotFound)?;
    Ok((year, as_of))
}

/// The files of the villages under a node for a year. A past year's problems are counted as
/// they stood when the year ended, not as they stand today.
async fn files_of(
    state: &AppState,
    org: &Node,
    year: i64,
    as_of: &str,
) -> Result<Vec<VillageFile>, AppError> {
    let mut files = state.db.village_files_under(org, year, as_of).await?;
    if as_of != today(state) {
        let mut counts = state.db.problem_counts_as_of(org, as_of).await?;
        for f in &mut files {
            f.problems = counts.remove(&f.code).unwrap_or_default();
        }
    }
    Ok(files)
}

#[derive(Template)]
#[template(path = "ledger/file.html")]
struct FilePage {
    tr: Tr,
    f: Frame,
    org: Node,
    file: VillageFile,
    years: Vec<i64>,
    /// "a5" or "a4": the paper the print style lays the file out for.
    paper: &'static str,
    bands: [&'static str; 5],
    /// The problems not yet closed, as the printed booklet lists them (at most `FILE_PROBLEMS`).
    open_problems: Vec<Problem>,
    today: String,
    /// A past year's file: its problems as they stood at the year's end, with no link to
    /// today's board.
    past: bool,
}

impl FilePage {
    fn status_name(&self, s: &ProblemStatus) -> String {
        self.tr.word("problem.status", s.as_str())
    }
    fn late(&self, p: &Problem) -> String {
        p.days_late(&self.today)
            .map(|d| self.tr.f("problem.days_late", &[("n", &d.to_string())]))
            .unwrap_or_default()
    }
    /// How many open problems the list leaves out.
    fn unlisted(&self) -> i64 {
        (self.file.problems.found - self.file.problems.verified - self.open_problems.len() as i64)
            .max(0)
    }
    fn income(&self) -> String {
        self.file
            .income_fen
            .map(|f| self.tr.f("file.yuan", &[("n", &f.yuan_text())]))
            .unwrap_or_else(|| "—".into())
    }
    fn beautiful(&self) -> String {
        match self.file.beautiful {
            Some((level, year)) => self.tr.f(
                "file.beautiful_since",
                &[
                    ("level", &self.tr.word("rating.level", level.as_str())),
                    ("year", &year.to_string()),
                ],
            ),
            None => self.tr.t("file.not_beautiful").to_string(),
        }
    }
    fn band(&self, i: &usize) -> i64 {
        self.file.ages.counts[*i]
    }
    fn land(&self) -> String {
        let mut parts = Vec::new();
        if let Some(mu) = self.file.land_mu() {
            parts.push(self.tr.f("file.mu", &[("n", &mu)]));
        }
        if !self.file.entries.land.is_empty() {
            parts.push(self.file.entries.land.clone());
        }
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(" ")
        }
    }
    fn opt(&self, v: &Option<i64>) -> String {
        v.map(|n| self.tr.num(n)).unwrap_or_else(|| "—".into())
    }
    fn updated(&self) -> String {
        match &self.file.updated {
            Some((at, by)) => self.tr.f(
                "file.updated",
                &[
                    (
                        "when",
                        &baiqian_domain::time::format(*at, "%Y-%m-%d %H:%M").unwrap_or_default(),
                    ),
                    ("by", by),
                ],
            ),
            None => self.tr.t("file.never").to_string(),
        }
    }
    fn land_mu_value(&self) -> String {
        self.file
            .entries
            .land_tenth_mu
            .map(tenths)
            .unwrap_or_default()
    }
    fn count_value(v: &Option<i64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "ledger/files.html")]
struct FilesPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    /// This page's files, of `found` that match the search (`query`), of `villages` in all.
    files: Vec<VillageFile>,
    villages: usize,
    found: usize,
    query: String,
    page: usize,
    pages: usize,
    /// Over every village under the node: members, of them over 60, and land in tenths of a 亩.
    members: i64,
    over_60: i64,
    land_tenth_mu: i64,
    /// A past year: the overdue figures are the year's end's, with no link to today's lists.
    past: bool,
}

impl FilesPage {
    fn share(&self) -> String {
        let mut all = baiqian_domain::ledger::AgeBands::default();
        all.counts[0] = self.members - self.over_60;
        all.counts[3] = self.over_60;
        all.over_60_share()
    }
    fn land_total(&self) -> String {
        tenths(self.land_tenth_mu)
    }
    fn land(&self, f: &VillageFile) -> String {
        f.land_mu().unwrap_or_else(|| "—".into())
    }
    fn income(&self, f: &VillageFile) -> String {
        f.income_fen
            .map(|x| x.yuan_text())
            .unwrap_or_else(|| "—".into())
    }
    fn found_text(&self) -> String {
        self.tr
            .f("file.found", &[("n", &self.tr.num(self.found as i64))])
    }
    /// The list's address for another page, keeping the year and the search.
    fn page_url(&self, page: usize) -> String {
        let q: String = form_urlencoded::byte_serialize(self.query.as_bytes()).collect();
        format!(
            "/orgs/{}/file?year={}&q={q}&page={page}",
            self.org.code, self.year
        )
    }
}

/// A village's file for a year, or the files of the villages under a township, county or city.
pub(super) async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<FileQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let (year, as_of) = year_of(&state, q.year)?;
    let f = Frame::new(&state, &me, tr, &here(&uri), "files").await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    let mut files = files_of(&state, &org, year, &as_of).await?;
    let past = as_of != today(&state);
    if org.level == Level::Village {
        let file = files.pop().ok_or(AppError::NotFound)?;
        let mut years = state.db.village_file_years(&org).await?;
        if !years.contains(&year) {
            years.push(year);
            years.sort_unstable_by(|a, b| b.cmp(a));
        }
        let open_problems = if past {
            state
                .db
                .unclosed_problems_as_of(&org, &as_of, FILE_PROBLEMS as i64)
                .await?
        } else {
            let filter = ProblemFilter {
                unclosed: true,
                ..ProblemFilter::default()
            };
            let mut open = state
                .db
                .problems_under(&org, &filter, FILE_PROBLEMS as i64, 0)
                .await?;
            // The booklet reads by deadline, the most pressing first.
            open.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
            open
        };
        return html(&FilePage {
            tr,
            f,
            open_problems,
            // Lateness in a past year's file is counted to the year's end.
            today: as_of.clone(),
            past,
            paper: if q.paper.as_deref() == Some("a4") {
                "a4"
            } else {
                "a5"
            },
            bands: AGE_BANDS,
            years,
            file,
            org,
        });
    }
    let members = files.iter().map(|f| f.ages.total()).sum();
    let over_60 = files.iter().map(|f| f.ages.over_60()).sum();
    let land_tenth_mu = files.iter().filter_map(|f| f.entries.land_tenth_mu).sum();
    let villages = files.len();
    let query: String =
        q.q.as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(40)
            .collect();
    let matching: Vec<VillageFile> = files
        .into_iter()
        .filter(|v| query.is_empty() || v.name.contains(&query) || v.township_name.contains(&query))
        .collect();
    let found = matching.len();
    let pages = found.div_ceil(FILES_PAGE).max(1);
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let files = matching
        .into_iter()
        .skip((page - 1) * FILES_PAGE)
        .take(FILES_PAGE)
        .collect();
    html(&FilesPage {
        tr,
        f,
        org,
        year,
        files,
        villages,
        found,
        query,
        page,
        pages,
        members,
        over_60,
        land_tenth_mu,
        past,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct FileEntryForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    population: String,
    #[serde(default)]
    households: String,
    #[serde(default)]
    income_sources: String,
    #[serde(default)]
    land_mu: String,
    #[serde(default)]
    land: String,
    #[serde(default)]
    notes: String,
}

/// Writes a village's entries for a year; a wrong field is a 422 naming it, and nothing is
/// written.
pub(super) async fn save(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<FileEntryForm>,
) -> Result<Response, AppError> {
    let year = form.year.trim().parse::<i64>().map_err(|_| {
        AppError::Invalid(baiqian_domain::Msg::new("file.error.year").arg("year", form.year.trim()))
    })?;
    state
        .db
        .save_village_file(
            &me.actor,
            code.as_str(),
            year,
            &FileForm {
                population: form.population,
                households: form.households,
                income_sources: form.income_sources,
                land_mu: form.land_mu,
                land: form.land,
                notes: form.notes,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/file?year={year}")).into_response())
}

/// The files of the villages under a node for a year as a sheet, one row per village.
pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<FileQuery>,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let (year, as_of) = year_of(&state, q.year)?;
    let files = files_of(&state, &org, year, &as_of).await?;
    let zh = Tr::new(crate::i18n::Lang::Zh);
    let opt = |v: Option<i64>| v.map(Cell::Number).unwrap_or(Cell::Text(String::new()));
    let rows: Vec<Vec<Cell>> = files
        .iter()
        .map(|f| {
            let mut row = vec![
                Cell::Text(f.township_name.clone()),
                Cell::Text(f.name.clone()),
                Cell::Text(f.code.clone()),
                Cell::Text(f.secretary.clone().unwrap_or_default()),
                Cell::Number(f.ages.total()),
            ];
            row.extend(f.ages.counts.iter().map(|n| Cell::Number(*n)));
            row.extend([
                Cell::Number(f.ages.over_60()),
                Cell::Text(f.ages.over_60_share()),
                opt(f.entries.population),
                opt(f.entries.households),
                Cell::Text(f.income_fen.map(|x| x.yuan_text()).unwrap_or_default()),
                Cell::Text(f.entries.income_sources.clone()),
                Cell::Text(f.land_mu().unwrap_or_default()),
                Cell::Text(f.entries.land.clone()),
                Cell::Text(
                    f.beautiful
                        .map(|(l, y)| format!("{} {y}", zh.word("rating.level", l.as_str())))
                        .unwrap_or_default(),
                ),
                Cell::Number(f.problems.found),
                Cell::Number(f.problems.found - f.problems.verified),
                Cell::Number(f.problems.overdue),
                Cell::Text(f.entries.notes.clone()),
            ]);
            row
        })
        .collect();
    let columns = [
        ("township", "乡镇"),
        ("village", "村"),
        ("code", "组织代码"),
        ("secretary", "书记"),
        ("members", "党员数"),
        ("to_35", "35岁及以下"),
        ("36_45", "36至45岁"),
        ("46_60", "46至60岁"),
        ("61_70", "61至70岁"),
        ("over_70", "71岁及以上"),
        ("over_60", "60岁以上"),
        ("over_60_share", "60岁以上占比"),
        ("population", "户籍人口"),
        ("households", "户数"),
        ("income", "村集体经济收入(元)"),
        ("income_sources", "收入来源"),
        ("land_mu", "可用土地(亩)"),
        ("land", "土地位置"),
        ("beautiful", "美丽乡村"),
        ("problems", "问题数"),
        ("unresolved", "未销号"),
        ("overdue", "逾期"),
        ("notes", "备注"),
    ];
    let title = crate::excel::export_title(
        tr,
        "export.village_files",
        &format!("{} {year}", org.name),
        &me,
        state.clock.now_ms(),
    );
    let bytes = crate::excel::write_list("村情档案", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("village-files-{code}-{year}.xlsx"))
}
