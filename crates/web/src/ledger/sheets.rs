//! The leaders' list (领导名单), their public pledges (公开承诺) and the townships' surveys
//! (排摸台账) from officials' own sheets through the shared importer: the pages and the imports
//! with their reports by row and column, and the surveys' export they read back.

use super::*;

use baiqian_store::ledger::{LeaderRow, PledgeRow, SurveyRow};

use std::future::Future;

use baiqian_store::import::{ImportMode, ImportOutcome};
use baiqian_store::{Actor, Db};

use super::import::{LedgerKind, SheetLedger};
use crate::excel::Column;

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

/// The leaders' list (领导名单).
pub(super) struct Leaders;

impl SheetLedger for Leaders {
    const KIND: LedgerKind = LEADERS;
    const COLUMNS: &'static [Column] = &LEADER_COLUMNS;
    type Row = LeaderRow;
    fn row(row: usize, c: Vec<String>) -> LeaderRow {
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        LeaderRow {
            row,
            name: next(),
            title: next(),
            org: next(),
            areas: next(),
            login: next(),
        }
    }
    fn import<'a>(
        db: &'a Db,
        actor: &'a Actor,
        node: &'a Node,
        rows: &'a [LeaderRow],
        mode: ImportMode,
        now: i64,
    ) -> impl Future<Output = baiqian_store::Result<ImportOutcome>> + Send + 'a {
        db.import_leader_rows(actor, node, rows, mode, now)
    }
}

/// The leaders' public pledges (公开承诺).
pub(super) struct Pledges;

impl SheetLedger for Pledges {
    const KIND: LedgerKind = PLEDGES;
    const COLUMNS: &'static [Column] = &PLEDGE_COLUMNS;
    type Row = PledgeRow;
    fn row(row: usize, c: Vec<String>) -> PledgeRow {
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        PledgeRow {
            row,
            leader: next(),
            scope: next(),
            level: next(),
            title: next(),
            since: next(),
            due: next(),
        }
    }
    fn import<'a>(
        db: &'a Db,
        actor: &'a Actor,
        node: &'a Node,
        rows: &'a [PledgeRow],
        mode: ImportMode,
        now: i64,
    ) -> impl Future<Output = baiqian_store::Result<ImportOutcome>> + Send + 'a {
        db.import_pledge_rows(actor, node, rows, mode, now)
    }
}

/// The townships' surveys (排摸台账), a row per village.
pub(super) struct Surveys;

impl SheetLedger for Surveys {
    const KIND: LedgerKind = SURVEYS;
    const COLUMNS: &'static [Column] = &SURVEY_COLUMNS;
    type Row = SurveyRow;
    fn row(row: usize, c: Vec<String>) -> SurveyRow {
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        SurveyRow {
            row,
            township: next(),
            title: next(),
            basis: next(),
            started_on: next(),
            village: next(),
            leader: next(),
            done_on: next(),
        }
    }
    fn import<'a>(
        db: &'a Db,
        actor: &'a Actor,
        node: &'a Node,
        rows: &'a [SurveyRow],
        mode: ImportMode,
        now: i64,
    ) -> impl Future<Output = baiqian_store::Result<ImportOutcome>> + Send + 'a {
        db.import_survey_rows(actor, node, rows, mode, now)
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
