//! Repayments posted from an officer's own `.xlsx` through the shared importer (还款批量登记):
//! title lines, their header words, loans by number with the borrower's name as a check. Every
//! bad cell is reported by row and column in both languages; nothing is written from a file
//! with a bad row, or exactly the good rows when asked.

use askama::Template;
use axum::extract::{Multipart, OriginalUri, State};
use axum::http::StatusCode;
use axum::response::Response;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_store::aid::RepaymentRow;
use baiqian_store::kernel::Node;

use super::today;
use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel::{self, Column};
use crate::extract::CodeParam;
use crate::form::{ReportRow, report_rows_with};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::state::AppState;

/// The columns a repayments sheet is read by.
pub const REPAYMENT_COLUMNS: [Column; 4] = [
    Column {
        field: "loan",
        header: "贷款编号",
        synonyms: &["贷款号", "借据号", "编号", "合同编号"],
        required: true,
    },
    Column {
        field: "borrower",
        header: "借款人",
        synonyms: &["姓名", "借款人姓名", "户名"],
        required: false,
    },
    Column {
        field: "on",
        header: "还款日期",
        synonyms: &["日期", "还款时间", "入账日期"],
        required: true,
    },
    Column {
        field: "amount",
        header: "还款金额",
        synonyms: &["金额", "还款金额（元）", "还款金额(元)", "本息合计"],
        required: true,
    },
];

fn header(field: &str) -> &'static str {
    REPAYMENT_COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

#[derive(Template)]
#[template(path = "aid/import.html")]
struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    headers: Vec<&'static str>,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

async fn blank(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &baiqian_domain::org::OrgCode,
) -> Result<ImportPage, AppError> {
    let org = state.db.org(me.scope(), code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    Ok(ImportPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "aid").await?,
        org,
        headers: REPAYMENT_COLUMNS.iter().map(|c| c.header).collect(),
        done: false,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    })
}

/// `GET /orgs/{code}/aid/repayments/import`.
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    html(&blank(&state, &me, tr, &uri, &code).await?)
}

/// `POST /orgs/{code}/aid/repayments/import`.
pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut page = blank(&state, &me, tr, &uri, &code).await?;
    page.done = true;
    let mut ok = false;
    match excel::sheet_rows(&mut multipart, &REPAYMENT_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.file_error = Some(e),
        excel::SheetRows::Headers(errors) => page.report = report_rows_with(&errors, header),
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<RepaymentRow> = rows
                .into_iter()
                .map(|(row, c)| RepaymentRow {
                    row,
                    loan: c[0].clone(),
                    borrower: c[1].clone(),
                    on: c[2].clone(),
                    amount: c[3].clone(),
                })
                .collect();
            let out = state
                .db
                .import_repayment_rows(
                    &me.actor,
                    &page.org,
                    &rows,
                    mode,
                    &today(&state),
                    state.clock.now_ms(),
                )
                .await?;
            ok = out.errors.is_empty();
            page.committed = out.committed;
            page.created = out.created;
            page.report = report_rows_with(&out.errors, header);
        }
    }
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}
