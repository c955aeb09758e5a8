//! The tree's export and import as Excel.

use super::*;

pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let orgs = state.db.org_subtree(me.scope(), &code, false).await?;
    let bytes = excel::write_orgs(&orgs)?;
    excel::xlsx_response(bytes, &format!("orgs-{code}.xlsx"))
}

#[derive(Template)]
#[template(path = "org/import.html")]
pub(super) struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    done: bool,
    committed: bool,
    created: usize,
    updated: usize,
    unchanged: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

pub(super) async fn import_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = tree_node_for_change(&state, &me, &code).await?;
    let page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: false,
        committed: false,
        created: 0,
        updated: 0,
        unchanged: 0,
        file_error: None,
        report: Vec::new(),
    };
    html(&page)
}

pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let node = tree_node_for_change(&state, &me, &code).await?;
    let crate::excel::Upload { file, mode, .. } =
        excel::read_upload(&mut multipart, crate::state::MAX_UPLOAD_BYTES).await?;
    let file = crate::excel::upload::bytes_of(&file).await?;
    let mut page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: true,
        committed: false,
        created: 0,
        updated: 0,
        unchanged: 0,
        file_error: None,
        report: Vec::new(),
    };
    let status = match import_bytes(&state, &me, &file, mode).await? {
        ImportResult::FileError(m) => {
            page.file_error = Some(format!(
                "{} / {}",
                Tr::new(Lang::Zh).msg(&m),
                Tr::new(Lang::En).msg(&m)
            ));
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
        ImportResult::Done(out) => {
            page.committed = out.committed;
            page.created = out.created;
            page.updated = out.updated;
            page.unchanged = out.unchanged;
            page.report = report_rows(&out.errors);
            if out.errors.is_empty() {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    };
    let mut res = html(&page)?;
    *res.status_mut() = status;
    Ok(res)
}

pub enum ImportResult {
    FileError(Msg),
    Done(baiqian_store::import::ImportOutcome),
}

/// Reads a workbook and imports its rows into the caller's scope (shared by the page and the API).
pub async fn import_bytes(
    state: &AppState,
    me: &CurrentUser,
    bytes: &[u8],
    mode: ImportMode,
) -> Result<ImportResult, AppError> {
    if bytes.is_empty() {
        return Ok(ImportResult::FileError(Msg::new("import.error.no_file")));
    }
    let table = match excel::read_first_sheet(bytes) {
        Ok(t) => t,
        Err(m) => return Ok(ImportResult::FileError(m)),
    };
    let rows = match excel::org_rows(&table) {
        Ok(r) => r,
        Err(errors) => {
            return Ok(ImportResult::Done(baiqian_store::import::ImportOutcome {
                errors,
                ..Default::default()
            }));
        }
    };
    if rows.is_empty() {
        return Ok(ImportResult::FileError(Msg::new("import.error.empty")));
    }
    let out = state
        .db
        .import_orgs(&me.actor, &rows, mode, state.clock.now_ms())
        .await?;
    Ok(ImportResult::Done(out))
}

/// The tree import's template: the columns of the tree sheet, an example child of this node,
/// drop-downs for the level and the Party organization's kind, and how to fill each in.
pub(super) async fn template(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use baiqian_domain::org::{Level, PartyOrgKind};
    use excel::TemplateColumn;
    let node = tree_node_for_change(&state, &me, &code).await?;
    let child = Level::ALL.into_iter().find(|l| l.may_sit_under(node.level));
    let levels: Vec<&str> = Level::ALL
        .iter()
        .filter(|l| **l != Level::City)
        .map(|l| l.zh())
        .collect();
    let kinds: Vec<&str> = PartyOrgKind::ALL.iter().map(|k| k.zh()).collect();
    let example = [
        String::new(),
        tr.t("template.tree.example_name").to_string(),
        child.map(|l| l.zh().to_string()).unwrap_or_default(),
        node.code.to_string(),
        PartyOrgKind::Branch.zh().to_string(),
        tr.t("template.tree.example_party").to_string(),
        String::new(),
        "0".to_string(),
    ];
    let columns: Vec<TemplateColumn<'_>> = excel::ORG_COLUMNS
        .iter()
        .zip(example)
        .map(|((field, header), example)| TemplateColumn {
            header,
            example,
            required: matches!(*field, "code" | "name" | "level" | "parent_code"),
            forms_key: format!("template.tree.{field}"),
            list: match *field {
                "level" => levels.clone(),
                "party_org_kind" => kinds.clone(),
                _ => Vec::new(),
            },
            also: &[],
        })
        .collect();
    let title = tr.f("template.tree.title", &[("node", &node.name)]);
    let bytes = excel::write_template(tr, "组织", &title, &columns)?;
    excel::xlsx_response(bytes, &format!("orgs-template-{code}.xlsx"))
}
