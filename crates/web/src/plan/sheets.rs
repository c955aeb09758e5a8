//! A plan in officials' `.xlsx` (计划导出与导入): the items of a node's plan out as a sheet, and
//! a sheet's rows in as items of the writer's plan, through the shared importer (title lines,
//! their header words, targets in their words).

use axum::extract::Multipart;
use axum::http::StatusCode;
use baiqian_domain::Msg;
use baiqian_store::plan::PlanItemRow;

use super::*;
use crate::excel::{self, Cell, Column};
use crate::form::{ReportRow, report_rows_with};
use crate::i18n::Lang;

/// The columns a plan's sheet is read by: the export's headers first, then officials' words.
pub const PLAN_COLUMNS: [Column; 6] = [
    Column {
        field: "content",
        header: "工作内容",
        synonyms: &["工作任务", "任务", "内容", "工作事项", "计划内容", "项目"],
        required: true,
    },
    Column {
        field: "measures",
        header: "具体措施",
        synonyms: &["措施", "工作措施", "主要措施", "推进措施"],
        required: false,
    },
    Column {
        field: "owner",
        header: "责任人",
        synonyms: &["责任领导", "负责人", "责任单位"],
        required: true,
    },
    Column {
        field: "deadline",
        header: "完成时限",
        synonyms: &["时限", "完成时间", "截止时间"],
        required: true,
    },
    Column {
        field: "measure",
        header: "对应目标",
        synonyms: &["目标", "服务目标"],
        required: false,
    },
    Column {
        field: "problems",
        header: "对应问题",
        synonyms: &["解决问题", "整改问题", "关联问题", "针对问题"],
        required: false,
    },
];

fn plan_header(field: &str) -> &'static str {
    PLAN_COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

/// `GET /orgs/{code}/plans/{year}/xlsx`: the node's plan of the year as a sheet the import
/// reads back.
pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let plan = state
        .db
        .plan_of(&org, year)
        .await?
        .ok_or(AppError::NotFound)?;
    // In the words the import reads back, whatever the reader's language.
    let zh = Tr::new(Lang::Zh);
    let rows: Vec<Vec<Cell>> = plan
        .items
        .iter()
        .map(|i| {
            vec![
                Cell::Text(i.content.clone()),
                Cell::Text(i.measures.clone()),
                Cell::Text(i.owner.clone()),
                Cell::Date(i.deadline.clone()),
                Cell::Text(
                    i.measure
                        .map(|m| zh.word("plan.measure", m.as_str()))
                        .unwrap_or_default(),
                ),
                // Each problem by number first: the import reads the numbers back.
                Cell::Text(
                    i.problems
                        .iter()
                        .map(|p| format!("#{} {}", p.id, p.description))
                        .collect::<Vec<_>>()
                        .join("；"),
                ),
                Cell::Text(
                    zh.t(if i.done_at.is_some() {
                        "plan.item_done"
                    } else {
                        "plan.item_open"
                    })
                    .to_string(),
                ),
            ]
        })
        .collect();
    let mut columns: Vec<(&str, &str)> = PLAN_COLUMNS.iter().map(|c| (c.field, c.header)).collect();
    columns.push(("state", "状态"));
    let title = format!(
        "{} · {}",
        plan.title,
        crate::excel::export_title(tr, "export.plan", &org.name, &me, state.clock.now_ms())
    );
    let bytes = crate::excel::write_list("计划", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("plan-{code}-{year}.xlsx"))
}

#[derive(Template)]
#[template(path = "plan/import.html")]
struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    title: String,
    headers: Vec<&'static str>,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

/// The writer's plan of the node and year (to be imported into): 404 without one, 403 for
/// anyone but its writer.
async fn writable(
    state: &AppState,
    me: &CurrentUser,
    code: &baiqian_domain::org::OrgCode,
    year: i64,
) -> Result<(Node, baiqian_store::plan::Plan), AppError> {
    let org = state.db.org(me.scope(), code).await?;
    let plan = state
        .db
        .plan_of(&org, year)
        .await?
        .ok_or(AppError::NotFound)?;
    let writes = baiqian_domain::plan::plan_writer(org.level) == Some(me.role())
        && me.scope().is_root_path(&org.path);
    if !writes {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    Ok((org, plan))
}

/// `GET /orgs/{code}/plans/{year}/import`.
pub(super) async fn import_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, plan) = writable(&state, &me, &code, year).await?;
    html(&ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        org,
        year,
        title: plan.title,
        headers: PLAN_COLUMNS.iter().map(|c| c.header).collect(),
        done: false,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    })
}

/// `POST /orgs/{code}/plans/{year}/import`.
pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (org, plan) = writable(&state, &me, &code, year).await?;
    let mut page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        org,
        year,
        title: plan.title.clone(),
        headers: PLAN_COLUMNS.iter().map(|c| c.header).collect(),
        done: true,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    };
    let mut ok = false;
    match excel::sheet_rows(&mut multipart, &PLAN_COLUMNS).await? {
        excel::SheetRows::Unreadable(e) => page.file_error = Some(e),
        excel::SheetRows::Headers(errors) => page.report = report_rows_with(&errors, plan_header),
        excel::SheetRows::Rows { mode, rows } => {
            let rows: Vec<PlanItemRow> = rows
                .into_iter()
                .map(|(row, c)| PlanItemRow {
                    row,
                    content: c[0].clone(),
                    measures: c[1].clone(),
                    owner: c[2].clone(),
                    deadline: c[3].clone(),
                    measure: c[4].clone(),
                    problems: c[5].clone(),
                })
                .collect();
            let out = state
                .db
                .import_plan_items(&me.actor, plan.id, &rows, mode, state.clock.now_ms())
                .await?;
            ok = out.errors.is_empty();
            page.committed = out.committed;
            page.created = out.created;
            page.report = report_rows_with(&out.errors, plan_header);
        }
    }
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}
