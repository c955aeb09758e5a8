//! Cadre rosters brought in from officials' own `.xlsx` (title lines, their header words,
//! village names) through the shared importer: the secretaries in post, and the first
//! secretaries sent.

use axum::extract::Multipart;
use axum::http::StatusCode;
use baiqian_store::cadre::{FirstSecretaryRow, SecretaryRow};

use super::*;
use crate::excel::{self, Column};
use crate::form::{ReportRow, report_rows_with};

const VILLAGE: Column = Column {
    field: "village",
    header: "村",
    synonyms: &["村名", "行政村", "村（社区）", "村社区", "单位", "所在村"],
    required: true,
};
const PHONE: Column = Column {
    field: "phone",
    header: "联系电话",
    synonyms: &["电话", "手机", "手机号码", "联系方式"],
    required: false,
};

/// The secretaries' roster: the columns it is read by.
pub const SECRETARY_COLUMNS: [Column; 6] = [
    VILLAGE,
    Column {
        field: "name",
        header: "书记姓名",
        synonyms: &["姓名", "村书记", "党组织书记", "书记", "村党组织书记"],
        required: true,
    },
    PHONE,
    Column {
        field: "origin",
        header: "来源",
        synonyms: &["书记来源", "人员来源", "类别"],
        required: false,
    },
    Column {
        field: "origin_note",
        header: "来源说明",
        synonyms: &["备注", "说明", "工作经历", "简历"],
        required: false,
    },
    Column {
        field: "since",
        header: "任职时间",
        synonyms: &["任现职时间", "任职日期", "上任时间", "任书记时间"],
        required: true,
    },
];

/// The first secretaries' roster.
pub const FIRST_COLUMNS: [Column; 8] = [
    VILLAGE,
    Column {
        field: "name",
        header: "姓名",
        synonyms: &["第一书记", "第一书记姓名"],
        required: true,
    },
    PHONE,
    Column {
        field: "sent_from",
        header: "派出层级",
        synonyms: &["层级", "选派层级", "市派/县派"],
        required: true,
    },
    Column {
        field: "sent_by",
        header: "派出单位",
        synonyms: &["原单位", "选派单位", "工作单位", "所在单位"],
        required: true,
    },
    Column {
        field: "start_on",
        header: "到村时间",
        synonyms: &["选派时间", "到岗时间", "任职时间"],
        required: true,
    },
    Column {
        field: "term_end",
        header: "任期届满",
        synonyms: &["任期至", "期满时间", "任期届满时间"],
        required: true,
    },
    Column {
        field: "stationed",
        header: "是否驻村",
        synonyms: &["驻村", "驻点", "是否驻点"],
        required: false,
    },
];

/// Which roster a page imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Roster {
    Secretaries,
    FirstSecretaries,
}

impl Roster {
    fn columns(self) -> &'static [Column] {
        match self {
            Roster::Secretaries => &SECRETARY_COLUMNS,
            Roster::FirstSecretaries => &FIRST_COLUMNS,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Roster::Secretaries => "secretaries",
            Roster::FirstSecretaries => "first-secretaries",
        }
    }
}

fn header_in(columns: &[Column], field: &str) -> &'static str {
    columns
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

fn secretary_header(field: &str) -> &'static str {
    header_in(&SECRETARY_COLUMNS, field)
}

fn first_header(field: &str) -> &'static str {
    header_in(&FIRST_COLUMNS, field)
}

fn header_of(roster: Roster) -> fn(&str) -> &'static str {
    match roster {
        Roster::Secretaries => secretary_header,
        Roster::FirstSecretaries => first_header,
    }
}

#[derive(Template)]
#[template(path = "cadre/import.html")]
struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    kind: &'static str,
    headers: Vec<&'static str>,
    done: bool,
    committed: bool,
    created: usize,
    unchanged: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

async fn blank(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &baiqian_domain::org::OrgCode,
    roster: Roster,
) -> Result<ImportPage, AppError> {
    let org = state.db.org(me.scope(), code).await?;
    if !matches!(org.level, Level::City | Level::County | Level::Township) {
        return Err(AppError::NotFound);
    }
    Ok(ImportPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "cadres").await?,
        org,
        kind: roster.key(),
        headers: roster.columns().iter().map(|c| c.header).collect(),
        done: false,
        committed: false,
        created: 0,
        unchanged: 0,
        file_error: None,
        report: Vec::new(),
    })
}

/// `GET /orgs/{code}/secretaries/import`.
pub(super) async fn secretaries_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    html(&blank(&state, &me, tr, &uri, &code, Roster::Secretaries).await?)
}

/// `GET /orgs/{code}/first-secretaries/import`.
pub(super) async fn firsts_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    html(&blank(&state, &me, tr, &uri, &code, Roster::FirstSecretaries).await?)
}

/// `POST /orgs/{code}/secretaries/import`.
pub(super) async fn secretaries(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    multipart: Multipart,
) -> Result<Response, AppError> {
    import(state, me, tr, uri, code, multipart, Roster::Secretaries).await
}

/// `POST /orgs/{code}/first-secretaries/import`.
pub(super) async fn firsts(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    multipart: Multipart,
) -> Result<Response, AppError> {
    import(
        state,
        me,
        tr,
        uri,
        code,
        multipart,
        Roster::FirstSecretaries,
    )
    .await
}

async fn import(
    state: AppState,
    me: std::sync::Arc<CurrentUser>,
    tr: Tr,
    uri: OriginalUri,
    code: baiqian_domain::org::OrgCode,
    mut multipart: Multipart,
    roster: Roster,
) -> Result<Response, AppError> {
    let mut page = blank(&state, &me, tr, &uri, &code, roster).await?;
    page.done = true;
    let mut ok = false;
    match excel::sheet_rows(&mut multipart, roster.columns()).await? {
        excel::SheetRows::Unreadable(e) => page.file_error = Some(e),
        excel::SheetRows::Headers(errors) => {
            page.report = report_rows_with(&errors, header_of(roster))
        }
        excel::SheetRows::Rows { mode, rows: cells } => {
            let now = state.clock.now_ms();
            let out = match roster {
                Roster::Secretaries => {
                    let rows: Vec<SecretaryRow> = cells
                        .into_iter()
                        .map(|(row, c)| SecretaryRow {
                            row,
                            village: c[0].clone(),
                            name: c[1].clone(),
                            phone: c[2].clone(),
                            origin: c[3].clone(),
                            origin_note: c[4].clone(),
                            since: c[5].clone(),
                        })
                        .collect();
                    state
                        .db
                        .import_secretary_rows(&me.actor, &state.vault, &page.org, &rows, mode, now)
                        .await?
                }
                Roster::FirstSecretaries => {
                    let rows: Vec<FirstSecretaryRow> = cells
                        .into_iter()
                        .map(|(row, c)| FirstSecretaryRow {
                            row,
                            village: c[0].clone(),
                            name: c[1].clone(),
                            phone: c[2].clone(),
                            sent_from: c[3].clone(),
                            sent_by: c[4].clone(),
                            start_on: c[5].clone(),
                            term_end: c[6].clone(),
                            stationed: c[7].clone(),
                        })
                        .collect();
                    state
                        .db
                        .import_first_secretary_rows(
                            &me.actor,
                            &state.vault,
                            &page.org,
                            &rows,
                            mode,
                            now,
                        )
                        .await?
                }
            };
            ok = out.errors.is_empty();
            page.committed = out.committed;
            page.created = out.created;
            page.unchanged = out.unchanged;
            page.report = report_rows_with(&out.errors, header_of(roster));
        }
    }
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}
