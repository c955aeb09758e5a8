//! A ledger of problems brought in from officials' own `.xlsx` (title lines, their header words,
//! village names): the page, and the import through the shared importer with its report.

use super::*;

use axum::http::StatusCode;
use baiqian_store::ledger::ProblemRow;

use crate::excel::{self, Column};
use crate::form::{ReportRow, report_rows_with};

/// The columns a ledger is read by: the export's headers first, then officials' other words.
pub const LEDGER_COLUMNS: [Column; 9] = [
    Column {
        field: "village",
        header: "村",
        synonyms: &["村名", "行政村", "村（社区）", "村社区", "村别", "单位"],
        required: true,
    },
    Column {
        field: "item_code",
        header: "对照标准",
        synonyms: &["标准条目", "对照条目", "对照标准条目", "条目"],
        required: false,
    },
    Column {
        field: "item_group",
        header: "问题类别",
        synonyms: &["类别", "问题类型", "类型"],
        required: false,
    },
    Column {
        field: "description",
        header: "问题",
        synonyms: &["存在问题", "问题描述", "具体问题", "问题内容", "主要问题"],
        required: true,
    },
    Column {
        field: "owner_name",
        header: "责任人",
        synonyms: &["整改责任人", "责任领导", "负责人"],
        required: true,
    },
    Column {
        field: "measures",
        header: "整改措施",
        synonyms: &["整改举措", "解决方法", "解决办法", "措施"],
        required: true,
    },
    Column {
        field: "deadline",
        header: "整改时限",
        synonyms: &["完成时限", "整改期限", "完成时间", "时限"],
        required: true,
    },
    Column {
        field: "status",
        header: "状态",
        synonyms: &["整改状态", "进展情况", "完成情况", "进展"],
        required: false,
    },
    Column {
        field: "found_on",
        header: "发现日期",
        synonyms: &["排摸时间", "发现时间"],
        required: false,
    },
];

/// Which ledger an import page takes: the list it belongs to (`problems`, `visits`, `pledges`,
/// `leaders`: the path of its export `/orgs/{code}/{list}.xlsx` and its import), the page it
/// returns to (`back`, with `{code}` for the node), the menu entry it sits under, and the words
/// of its page.
pub(super) struct LedgerKind {
    pub list: &'static str,
    pub back: &'static str,
    pub menu: &'static str,
    pub list_title: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub example: &'static str,
}

const PROBLEMS: LedgerKind = LedgerKind {
    list: "problems",
    back: "/orgs/{code}/problems",
    menu: "problems",
    list_title: "problem.title",
    title: "problem.import",
    hint: "problem.import_hint",
    example: "problem.import_example",
};

/// The import page of a ledger: the form, and after an upload what went in or every bad cell.
#[derive(Template)]
#[template(path = "ledger/import.html")]
pub(super) struct ImportPage {
    tr: Tr,
    f: Frame,
    pub(super) org: Node,
    kind: LedgerKind,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

impl ImportPage {
    pub(super) async fn new(
        state: &AppState,
        me: &CurrentUser,
        tr: Tr,
        uri: &OriginalUri,
        org: Node,
        kind: LedgerKind,
    ) -> Result<Self, AppError> {
        Ok(Self {
            tr,
            f: Frame::new(state, me, tr, &here(uri), kind.menu).await?,
            org,
            kind,
            done: false,
            committed: false,
            created: 0,
            file_error: None,
            report: Vec::new(),
        })
    }

    fn back(&self) -> String {
        self.kind.back.replace("{code}", self.org.code.as_str())
    }

    /// The page after an upload, answered 422 unless every row went in.
    pub(super) fn answer(
        mut self,
        file_error: Option<String>,
        outcome: Option<(bool, usize)>,
        report: Vec<ReportRow>,
    ) -> Result<Response, AppError> {
        self.done = true;
        let ok = file_error.is_none() && report.is_empty() && outcome.is_some();
        self.file_error = file_error;
        if let Some((committed, created)) = outcome {
            self.committed = committed;
            self.created = created;
        }
        self.report = report;
        let mut res = html(&self)?;
        if !ok {
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(res)
    }
}

/// A ledger officials keep in a sheet: its import page's words, the columns it is read by
/// (the export's headers first, then officials' other words), how a row's cells become the
/// store's row, and the store's import. One page and one import handler serve them all.
pub(super) trait SheetLedger {
    const KIND: LedgerKind;
    const COLUMNS: &'static [Column];
    type Row: Send + Sync;
    /// A row's cells, in the order of `COLUMNS`.
    fn row(row: usize, cells: Vec<String>) -> Self::Row;
    fn import<'a>(
        db: &'a baiqian_store::Db,
        actor: &'a baiqian_store::Actor,
        node: &'a Node,
        rows: &'a [Self::Row],
        mode: baiqian_store::import::ImportMode,
        now: i64,
    ) -> impl std::future::Future<
        Output = baiqian_store::Result<baiqian_store::import::ImportOutcome>,
    > + Send
    + 'a;
}

/// A column's header in a ledger's sheet, by its field: the report's column words.
fn header<L: SheetLedger>(field: &str) -> &'static str {
    L::COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

/// `GET /orgs/{code}/{list}/import`: the form.
pub(super) async fn page<L: SheetLedger>(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    html(&ImportPage::new(&state, &me, tr, &uri, org, L::KIND).await?)
}

/// `POST /orgs/{code}/{list}/import`: the sheet read under the ledger's columns, imported in
/// the mode asked, and the page with what went in or every bad cell.
pub(super) async fn import<L: SheetLedger>(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = ImportPage::new(&state, &me, tr, &uri, org, L::KIND).await?;
    match excel::sheet_rows(&mut multipart, L::COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.answer(Some(e), None, Vec::new()),
        excel::SheetRows::Headers(errors) => {
            page.answer(None, None, report_rows_with(&errors, header::<L>))
        }
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<L::Row> = rows.into_iter().map(|(n, c)| L::row(n, c)).collect();
            let out = L::import(
                &state.db,
                &me.actor,
                &page.org,
                &rows,
                mode,
                state.clock.now_ms(),
            )
            .await?;
            page.answer(
                None,
                Some((out.committed, out.created)),
                report_rows_with(&out.errors, header::<L>),
            )
        }
    }
}

/// The problem ledger (问题清单).
pub(super) struct Problems;

impl SheetLedger for Problems {
    const KIND: LedgerKind = PROBLEMS;
    const COLUMNS: &'static [Column] = &LEDGER_COLUMNS;
    type Row = ProblemRow;
    fn row(row: usize, c: Vec<String>) -> ProblemRow {
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        ProblemRow {
            row,
            village: next(),
            item_code: next(),
            item_group: next(),
            description: next(),
            owner_name: next(),
            measures: next(),
            deadline: next(),
            status: next(),
            found_on: next(),
        }
    }
    fn import<'a>(
        db: &'a baiqian_store::Db,
        actor: &'a baiqian_store::Actor,
        node: &'a Node,
        rows: &'a [ProblemRow],
        mode: baiqian_store::import::ImportMode,
        now: i64,
    ) -> impl std::future::Future<
        Output = baiqian_store::Result<baiqian_store::import::ImportOutcome>,
    > + Send
    + 'a {
        db.import_problem_rows(actor, node, rows, None, mode, now)
    }
}
