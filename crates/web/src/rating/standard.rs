//! Standard sets (标准): the list, one set's items, a new set or version from a spreadsheet,
//! an item entered by hand, the export that imports back unchanged.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_store::StoreError;
use baiqian_store::import::ImportError;
use baiqian_store::rating::standard::{
    ItemRow, NewItem, StandardItem, StandardSet, parse_item, parse_items,
};
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel::{self, Cell};
use crate::form::{ReportRow, report_rows_with};
use crate::frame::Frame;
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/standards", Capability::ReadStandards, list)
        .post("/standards", Capability::ManageStandards, create)
        .get("/standards/{id}", Capability::ReadStandards, show)
        .post(
            "/standards/{id}/items",
            Capability::ManageStandards,
            add_item,
        )
        .get("/standards/{id}/export", Capability::ExportLists, export)
        .get(
            "/standards/template.xlsx",
            Capability::ManageStandards,
            template,
        )
}

/// The item sheet's columns: field (as errors name it) and Chinese header.
pub const ITEM_COLUMNS: [(&str, &str); 7] = [
    ("group", "分组"),
    ("code", "编号"),
    ("body", "内容"),
    ("full_score", "满分"),
    ("guidance", "评分说明"),
    ("evidence", "佐证材料"),
    ("veto", "一票否决"),
];

fn item_header(field: &str) -> &'static str {
    ITEM_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

/// A set's items as a workbook; importing it gives the same items.
pub fn write_items(items: &[StandardItem]) -> Result<Vec<u8>, AppError> {
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .map(|i| {
            vec![
                Cell::Text(i.group_name.clone()),
                Cell::Text(i.code.clone()),
                Cell::Text(i.body.clone()),
                Cell::Number(i.full_score),
                Cell::Text(i.guidance.clone()),
                Cell::Text(i.evidence.clone()),
                Cell::Text(if i.veto { "是" } else { "否" }.into()),
            ]
        })
        .collect();
    excel::write_sheet("标准条目", &ITEM_COLUMNS, &rows)
}

/// Reads an item sheet into checked items, or every bad cell.
pub fn read_items(table: &[Vec<String>]) -> Result<Vec<NewItem>, Vec<ImportError>> {
    let idx = excel::map_columns(table, &ITEM_COLUMNS, &["guidance", "evidence", "veto"])?;
    let rows: Vec<ItemRow> = excel::data_rows(table, &idx)
        .into_iter()
        .map(|(row, c)| ItemRow {
            row,
            group_name: c[0].clone(),
            code: c[1].clone(),
            body: c[2].clone(),
            full_score: c[3].clone(),
            guidance: c[4].clone(),
            evidence: c[5].clone(),
            veto: c[6].clone(),
        })
        .collect();
    parse_items(&rows)
}

#[derive(Template)]
#[template(path = "standard/list.html")]
struct ListPage {
    tr: Tr,
    f: Frame,
    sets: Vec<StandardSet>,
    can_create: bool,
    code: String,
    name: String,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

fn here(uri: &OriginalUri) -> String {
    uri.0.path().to_string()
}

async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
) -> Result<Response, AppError> {
    html(&ListPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "standards").await?,
        sets: state.db.standard_sets(me.scope()).await?,
        can_create: me.role().is_admin(),
        code: String::new(),
        name: String::new(),
        file_error: None,
        report: Vec::new(),
    })
}

fn both_langs(m: &Msg) -> String {
    format!(
        "{} / {}",
        Tr::new(Lang::Zh).msg(m),
        Tr::new(Lang::En).msg(m)
    )
}

/// A new set, or the next version of one, from the form's code and name and an optional sheet.
async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    if !me.role().is_admin() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let broken = excel::upload_failed(crate::state::MAX_UPLOAD_BYTES);
    let (mut code, mut name, mut file) = (String::new(), String::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name().unwrap_or_default() {
            "code" => code = field.text().await.map_err(broken)?,
            "name" => name = field.text().await.map_err(broken)?,
            "file" => file = field.bytes().await.map_err(broken)?.to_vec(),
            _ => {}
        }
    }
    let mut page = ListPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "standards").await?,
        sets: Vec::new(),
        can_create: true,
        code: code.clone(),
        name: name.clone(),
        file_error: None,
        report: Vec::new(),
    };
    let items = if file.is_empty() {
        Ok(Vec::new())
    } else {
        match excel::read_first_sheet(&file) {
            Ok(table) => read_items(&table),
            Err(m) => {
                page.file_error = Some(both_langs(&m));
                Err(Vec::new())
            }
        }
    };
    match items {
        Ok(items) => {
            match state
                .db
                .create_standard_set(&me.actor, &code, &name, &items, state.clock.now_ms())
                .await
            {
                Ok(set) => {
                    return Ok(Redirect::to(&format!("/standards/{}", set.id)).into_response());
                }
                Err(StoreError::Invalid(m)) => page.file_error = Some(both_langs(&m)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(errors) => page.report = report_rows_with(&errors, item_header),
    }
    page.sets = state.db.standard_sets(me.scope()).await?;
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Template)]
#[template(path = "standard/show.html")]
struct ShowPage {
    tr: Tr,
    f: Frame,
    set: StandardSet,
    items: Vec<StandardItem>,
    can_edit: bool,
    form: ItemForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct ItemForm {
    #[serde(default)]
    group_name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    full_score: String,
    #[serde(default)]
    guidance: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    veto: String,
}

fn can_edit(me: &CurrentUser, set: &StandardSet) -> bool {
    me.role().is_admin() && me.scope().contains_path(&set.owner_path) && !set.locked
}

async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (set, items) = state.db.standard_set(me.scope(), id).await?;
    html(&ShowPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "standards").await?,
        can_edit: can_edit(&me, &set),
        set,
        items,
        form: ItemForm::default(),
        error: None,
    })
}

async fn add_item(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(form): Form<ItemForm>,
) -> Result<Response, AppError> {
    let row = ItemRow {
        row: 1,
        group_name: form.group_name.clone(),
        code: form.code.clone(),
        body: form.body.clone(),
        full_score: form.full_score.clone(),
        guidance: form.guidance.clone(),
        evidence: form.evidence.clone(),
        veto: form.veto.clone(),
    };
    let error = match parse_item(&row) {
        Ok(item) => match state
            .db
            .add_standard_item(&me.actor, id, &item, state.clock.now_ms())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/standards/{id}")).into_response()),
            Err(StoreError::Invalid(m)) => tr.msg(&m),
            Err(e) => return Err(e.into()),
        },
        Err(errs) => errs
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    tr.t(&format!("standard.{}", e.column)),
                    tr.msg(&e.msg)
                )
            })
            .collect::<Vec<_>>()
            .join("；"),
    };
    let (set, items) = state.db.standard_set(me.scope(), id).await?;
    let mut res = html(&ShowPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "standards").await?,
        can_edit: can_edit(&me, &set),
        set,
        items,
        form,
        error: Some(error),
    })?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (set, items) = state.db.standard_set(me.scope(), id).await?;
    excel::xlsx_response(
        write_items(&items)?,
        &format!("standard-{}-v{}.xlsx", set.code, set.version),
    )
}

/// The standard items' import template: the item sheet's headers, an example item, a drop-down
/// for 一票否决, and how to fill each column in.
async fn template(Auth(me): Auth, tr: Tr) -> Result<Response, AppError> {
    let example = [
        tr.t("template.standard.example_group"),
        "1.1",
        tr.t("template.standard.example_body"),
        "5",
        tr.t("template.standard.example_guidance"),
        tr.t("template.standard.example_evidence"),
        "否",
    ];
    let columns: Vec<excel::TemplateColumn<'_>> = ITEM_COLUMNS
        .iter()
        .zip(example)
        .map(|((field, header), example)| excel::TemplateColumn {
            header,
            example: example.to_string(),
            required: !matches!(*field, "guidance" | "evidence" | "veto"),
            forms_key: format!("template.standard.{field}"),
            list: if *field == "veto" {
                vec!["是", "否"]
            } else {
                Vec::new()
            },
            also: &[],
        })
        .collect();
    let title = tr.f("template.standard.title", &[("node", &me.user.org_name)]);
    let bytes = excel::write_template(tr, "标准条目", &title, &columns)?;
    excel::xlsx_response(bytes, "standard-template.xlsx")
}
