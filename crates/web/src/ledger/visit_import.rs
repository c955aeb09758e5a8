//! A visit log (走访台账) from officials' own sheets through the shared importer: the page and
//! the import with its report by row and column.

use super::*;

use baiqian_store::ledger::VisitRow;

use super::import::{ImportPage, LedgerKind};
use crate::excel::{self, Column};
use crate::form::report_rows_with;

/// The columns a visit log is read by: the export's headers first, then officials' other words.
pub const VISIT_COLUMNS: [Column; 5] = [
    Column {
        field: "visited_on",
        header: "走访日期",
        synonyms: &["日期", "走访时间", "时间", "调研时间"],
        required: true,
    },
    Column {
        field: "leader",
        header: "领导",
        synonyms: &["领导姓名", "姓名", "走访领导", "调研领导", "联系领导"],
        required: true,
    },
    Column {
        field: "place",
        header: "走访地点",
        synonyms: &["地点", "走访村", "村", "调研地点", "走访对象", "乡镇"],
        required: true,
    },
    Column {
        field: "kind",
        header: "方式",
        synonyms: &["走访方式", "形式", "走访形式", "类型"],
        required: true,
    },
    Column {
        field: "findings",
        header: "发现的问题",
        synonyms: &["发现问题", "主要问题", "走访情况", "情况", "备注"],
        required: false,
    },
];

fn visit_header(field: &str) -> &'static str {
    VISIT_COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

const VISITS: LedgerKind = LedgerKind {
    list: "visits",
    back: "/orgs/{code}/visits",
    menu: "visits",
    list_title: "visit.title",
    title: "visit.import",
    hint: "visit.import_hint",
    example: "visit.import_example",
};

pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    html(&ImportPage::new(&state, &me, tr, &uri, org, VISITS).await?)
}

pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = ImportPage::new(&state, &me, tr, &uri, org, VISITS).await?;
    match excel::sheet_rows(&mut multipart, &VISIT_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.answer(Some(e), None, Vec::new()),
        excel::SheetRows::Headers(errors) => {
            page.answer(None, None, report_rows_with(&errors, visit_header))
        }
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<VisitRow> = rows
                .into_iter()
                .map(|(row, c)| VisitRow {
                    row,
                    visited_on: c[0].clone(),
                    leader: c[1].clone(),
                    place: c[2].clone(),
                    kind: c[3].clone(),
                    findings: c[4].clone(),
                })
                .collect();
            let out = state
                .db
                .import_visit_rows(&me.actor, &page.org, &rows, mode, state.clock.now_ms())
                .await?;
            page.answer(
                None,
                Some((out.committed, out.created)),
                report_rows_with(&out.errors, visit_header),
            )
        }
    }
}
