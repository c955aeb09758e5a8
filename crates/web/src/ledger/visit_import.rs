//! A visit log (走访台账) from officials' own sheets through the shared importer: its columns
//! and rows.

use super::*;

use baiqian_store::ledger::VisitRow;

use std::future::Future;

use baiqian_store::import::{ImportMode, ImportOutcome};
use baiqian_store::{Actor, Db};

use super::import::{LedgerKind, SheetLedger};
use crate::excel::Column;

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

const VISITS: LedgerKind = LedgerKind {
    list: "visits",
    back: "/orgs/{code}/visits",
    menu: "visits",
    list_title: "visit.title",
    title: "visit.import",
    hint: "visit.import_hint",
    example: "visit.import_example",
};

/// The leaders' visit log (走访台账).
pub(super) struct Visits;

impl SheetLedger for Visits {
    const KIND: LedgerKind = VISITS;
    const COLUMNS: &'static [Column] = &VISIT_COLUMNS;
    type Row = VisitRow;
    fn row(row: usize, c: Vec<String>) -> VisitRow {
        let mut c = c.into_iter();
        let mut next = || c.next().unwrap_or_default();
        VisitRow {
            row,
            visited_on: next(),
            leader: next(),
            place: next(),
            kind: next(),
            findings: next(),
        }
    }
    fn import<'a>(
        db: &'a Db,
        actor: &'a Actor,
        node: &'a Node,
        rows: &'a [VisitRow],
        mode: ImportMode,
        now: i64,
    ) -> impl Future<Output = baiqian_store::Result<ImportOutcome>> + Send + 'a {
        db.import_visit_rows(actor, node, rows, mode, now)
    }
}
