//! The leaders' list (领导名单), their public pledges (公开承诺) and the townships' surveys
//! (排摸台账) from officials' own sheets through the shared importer: the pages and the imports
//! with their reports by row and column, and the surveys' export they read back.

use super::*;

use baiqian_store::ledger::{LeaderRow, PledgeRow, SurveyRow};

use super::import::{ImportPage, LedgerKind};
use crate::excel::{self, Column};
use crate::form::report_rows_with;

/// The columns a leaders' list is read by: the export's headers first, then officials' words.
pub const LEADER_COLUMNS: [Column; 5] = [
    Column {
        field: "name",
        header: "姓名",
        synonyms: &["领导姓名", "领导", "联系领导"],
        required: true,
    },
    Column {
        field: "title",
        header: "职务",
        synonyms: &["现任职务", "职位"],
        required: true,
    },
    Column {
        field: "org",
        header: "单位",
        synonyms: &["所在单位", "工作单位", "单位名称"],
        required: true,
    },
    Column {
        field: "areas",
        header: "联系指导",
        synonyms: &["联系点", "联系村", "联系乡镇", "联系指导村", "结对村"],
        required: false,
    },
    Column {
        field: "login",
        header: "账号",
        synonyms: &["登录账号", "用户名"],
        required: false,
    },
];

/// The columns a pledges' list is read by.
pub const PLEDGE_COLUMNS: [Column; 6] = [
    Column {
        field: "leader",
        header: "领导",
        synonyms: &["领导姓名", "姓名", "承诺人"],
        required: true,
    },
    Column {
        field: "scope",
        header: "范围",
        synonyms: &["承诺范围", "单位", "区域"],
        required: true,
    },
    Column {
        field: "level",
        header: "走遍",
        synonyms: &["走访对象", "对象", "层级"],
        required: false,
    },
    Column {
        field: "title",
        header: "承诺",
        synonyms: &["承诺内容", "承诺事项", "内容"],
        required: true,
    },
    Column {
        field: "since",
        header: "起始日期",
        synonyms: &["开始日期", "开始时间", "承诺时间"],
        required: true,
    },
    Column {
        field: "due",
        header: "完成时限",
        synonyms: &["完成时间", "截止日期", "时限"],
        required: true,
    },
];

/// The columns a survey list is read by, one row per village.
pub const SURVEY_COLUMNS: [Column; 7] = [
    Column {
        field: "township",
        header: "乡镇",
        synonyms: &["乡镇（街道）", "乡镇(街道)", "镇", "街道"],
        required: true,
    },
    Column {
        field: "title",
        header: "排摸名称",
        synonyms: &["排摸", "名称", "调研名称", "排查名称"],
        required: true,
    },
    Column {
        field: "basis",
        header: "对照标准",
        synonyms: &["排摸依据", "依据", "标准"],
        required: true,
    },
    Column {
        field: "started_on",
        header: "开始日期",
        synonyms: &["开始时间", "启动日期"],
        required: true,
    },
    Column {
        field: "village",
        header: "村",
        synonyms: &["村名", "行政村", "村（社区）"],
        required: true,
    },
    Column {
        field: "leader",
        header: "联系领导",
        synonyms: &["联系指导领导", "领导", "指导领导"],
        required: false,
    },
    Column {
        field: "done_on",
        header: "排摸日期",
        synonyms: &["完成日期", "排摸时间", "完成时间"],
        required: false,
    },
];

fn header_of(columns: &'static [Column], field: &str) -> &'static str {
    columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

const LEADERS: LedgerKind = LedgerKind {
    list: "leaders",
    back: "/orgs/{code}/leaders",
    menu: "visits",
    list_title: "leader.title",
    title: "leader.import",
    hint: "leader.import_hint",
    example: "leader.import_example",
};

const SURVEYS: LedgerKind = LedgerKind {
    list: "surveys",
    back: "/orgs/{code}/problems",
    menu: "problems",
    list_title: "problem.title",
    title: "survey.import",
    hint: "survey.import_hint",
    example: "survey.import_example",
};

const PLEDGES: LedgerKind = LedgerKind {
    list: "pledges",
    back: "/pledges",
    menu: "visits",
    list_title: "pledge.title",
    title: "pledge.import",
    hint: "pledge.import_hint",
    example: "pledge.import_example",
};

pub(super) async fn leaders_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    html(&ImportPage::new(&state, &me, tr, &uri, org, LEADERS).await?)
}

pub(super) async fn import_leaders(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = ImportPage::new(&state, &me, tr, &uri, org, LEADERS).await?;
    let header = |f: &str| header_of(&LEADER_COLUMNS, f);
    match excel::sheet_rows(&mut multipart, &LEADER_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.answer(Some(e), None, Vec::new()),
        excel::SheetRows::Headers(errors) => {
            page.answer(None, None, report_rows_with(&errors, header))
        }
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<LeaderRow> = rows
                .into_iter()
                .map(|(row, c)| LeaderRow {
                    row,
                    name: c[0].clone(),
                    title: c[1].clone(),
                    org: c[2].clone(),
                    areas: c[3].clone(),
                    login: c[4].clone(),
                })
                .collect();
            let out = state
                .db
                .import_leader_rows(&me.actor, &page.org, &rows, mode, state.clock.now_ms())
                .await?;
            page.answer(
                None,
                Some((out.committed, out.created)),
                report_rows_with(&out.errors, header),
            )
        }
    }
}

pub(super) async fn pledges_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    html(&ImportPage::new(&state, &me, tr, &uri, org, PLEDGES).await?)
}

pub(super) async fn import_pledges(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = ImportPage::new(&state, &me, tr, &uri, org, PLEDGES).await?;
    let header = |f: &str| header_of(&PLEDGE_COLUMNS, f);
    match excel::sheet_rows(&mut multipart, &PLEDGE_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.answer(Some(e), None, Vec::new()),
        excel::SheetRows::Headers(errors) => {
            page.answer(None, None, report_rows_with(&errors, header))
        }
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<PledgeRow> = rows
                .into_iter()
                .map(|(row, c)| PledgeRow {
                    row,
                    leader: c[0].clone(),
                    scope: c[1].clone(),
                    level: c[2].clone(),
                    title: c[3].clone(),
                    since: c[4].clone(),
                    due: c[5].clone(),
                })
                .collect();
            let out = state
                .db
                .import_pledge_rows(&me.actor, &page.org, &rows, mode, state.clock.now_ms())
                .await?;
            page.answer(
                None,
                Some((out.committed, out.created)),
                report_rows_with(&out.errors, header),
            )
        }
    }
}

pub(super) async fn surveys_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    html(&ImportPage::new(&state, &me, tr, &uri, org, SURVEYS).await?)
}

pub(super) async fn import_surveys(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = ImportPage::new(&state, &me, tr, &uri, org, SURVEYS).await?;
    let header = |f: &str| header_of(&SURVEY_COLUMNS, f);
    match excel::sheet_rows(&mut multipart, &SURVEY_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.answer(Some(e), None, Vec::new()),
        excel::SheetRows::Headers(errors) => {
            page.answer(None, None, report_rows_with(&errors, header))
        }
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<SurveyRow> = rows
                .into_iter()
                .map(|(row, c)| SurveyRow {
                    row,
                    township: c[0].clone(),
                    title: c[1].clone(),
                    basis: c[2].clone(),
                    started_on: c[3].clone(),
                    village: c[4].clone(),
                    leader: c[5].clone(),
                    done_on: c[6].clone(),
                })
                .collect();
            let out = state
                .db
                .import_survey_rows(&me.actor, &page.org, &rows, mode, state.clock.now_ms())
                .await?;
            page.answer(
                None,
                Some((out.committed, out.created)),
                report_rows_with(&out.errors, header),
            )
        }
    }
}

/// `GET /orgs/{code}/surveys.xlsx`: every village of every survey of the townships under a
/// node, as the surveys' import reads them back, with the problems each found.
pub(super) async fn export_surveys(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let rows: Vec<Vec<Cell>> = state
        .db
        .survey_lines_under(&org)
        .await?
        .into_iter()
        .map(|l| {
            vec![
                Cell::Text(l.township_name),
                Cell::Text(l.title),
                Cell::Text(l.basis),
                Cell::Date(l.started_on),
                Cell::Text(l.village_name),
                Cell::Text(l.leader_name.unwrap_or_default()),
                l.done_on
                    .map(Cell::Date)
                    .unwrap_or(Cell::Text(String::new())),
                Cell::Number(l.problems),
            ]
        })
        .collect();
    let mut columns: Vec<(&str, &str)> =
        SURVEY_COLUMNS.iter().map(|c| (c.field, c.header)).collect();
    columns.push(("problems", "发现问题数"));
    let title =
        crate::excel::export_title(tr, "export.surveys", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("排摸台账", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("surveys-{code}.xlsx"))
}
