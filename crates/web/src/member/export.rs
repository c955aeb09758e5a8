//! The roster's export as Excel (a file, or a job for a large subtree) and the import's
//! template.

use super::*;

/// The roster as exported: field and Chinese header. The organization by name, its code beside.
pub const MEMBER_COLUMNS: [(&str, &str); 12] = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("phone", "手机号"),
    ("home_org_name", "所在党组织"),
    ("home_org", "组织关系所在地代码"),
    ("joined", "入党日期"),
    ("workplace", "工作单位"),
    ("mobile", "流动党员"),
    ("mobile_where", "流动去向"),
    ("confirmed", "转正日期"),
];

/// The roster's import template, through the shared writer (`excel::write_template`): the
/// headers under a title line, a made-up example row, drop-downs for gender and the mobile flag,
/// and a sheet saying how each column may be written and which other header words are read.
pub(super) async fn template(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    // Made up: a template is handed around, and nobody's real name or phone belongs in it.
    let example = [
        "王示例",
        "男",
        "1980-01-01",
        "",
        "13800000000",
        node.name.as_str(),
        "2005-07",
        "示例村股份经济合作社",
        "否",
        "",
        "2006-07",
    ];
    let columns: Vec<crate::excel::TemplateColumn<'_>> = IMPORT_COLUMNS
        .iter()
        .zip(example)
        .map(|(col, example)| crate::excel::TemplateColumn {
            header: col.header,
            example: example.to_string(),
            required: col.required,
            forms_key: format!("template.forms.{}", col.field),
            list: match col.field {
                "gender" => vec!["男", "女"],
                "mobile" => vec!["是", "否"],
                _ => Vec::new(),
            },
            also: col.synonyms,
        })
        .collect();
    let title = tr.f("template.title", &[("node", &node.name)]);
    let bytes = crate::excel::write_template(tr, "党员名册", &title, &columns)?;
    crate::excel::xlsx_response(bytes, &format!("members-template-{code}.xlsx"))
}

/// A roster row as exported. Personal data leaves the system masked.
fn member_cells(m: &Member) -> Vec<crate::excel::Cell> {
    use crate::excel::Cell;
    let text = |s: &str| Cell::Text(s.to_string());
    vec![
        text(&m.name),
        text(Gender::parse(&m.gender).map(Gender::zh).unwrap_or("")),
        Cell::Date(m.birth_date.clone()),
        text(&m.id_masked),
        text(m.phone_masked.as_deref().unwrap_or("")),
        text(&m.home_org_name),
        text(&m.home_org),
        record_date(&m.joined),
        text(m.workplace.as_deref().unwrap_or("")),
        text(if m.mobile { "是" } else { "否" }),
        text(m.mobile_where.as_deref().unwrap_or("")),
        m.confirmed.as_deref().map(record_date).unwrap_or(text("")),
    ]
}

/// A date of Party life as kept: a date cell to the day, or the month as text ("1974-07"),
/// never a day Excel would invent.
fn record_date(d: &str) -> crate::excel::Cell {
    if d.len() == 10 {
        crate::excel::Cell::Date(d.to_string())
    } else {
        crate::excel::Cell::Text(d.to_string())
    }
}

/// Organizations read per query when streaming a roster out.
const EXPORT_ORGS_PER_READ: usize = 64;

/// Writes the roster under `node` to `path` as `.xlsx`, streaming: the database read a few
/// dozen organizations at a time (in the page's order) while a blocking thread writes rows in
/// rust_xlsxwriter's constant-memory mode, so memory stays flat whatever the roster's size and
/// the server's other requests go on. Returns the rows written.
pub(super) async fn write_roster(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    node: &Node,
    path: std::path::PathBuf,
    progress: std::sync::Arc<crate::job::Progress>,
) -> Result<u32, AppError> {
    let nodes = state.db.org_subtree(me.scope(), &node.code, true).await?;
    progress.found(node.member_count);
    let title =
        crate::excel::export_title(tr, "export.roster", &node.name, me, state.clock.now_ms());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Member>>(4);
    let written = progress.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<u32, AppError> {
        let mut w = crate::excel::ListWriter::new("党员名册", &title, &MEMBER_COLUMNS, true)?;
        while let Some(batch) = rx.blocking_recv() {
            for m in &batch {
                w.row(&member_cells(m))?;
            }
            written.advance(batch.len() as i64);
        }
        let rows = w.rows();
        w.finish_to_file(&path)?;
        Ok(rows)
    });
    let codes: Vec<String> = nodes.iter().map(|n| n.code.to_string()).collect();
    drop(nodes);
    for chunk in codes.chunks(EXPORT_ORGS_PER_READ) {
        let batch = state.db.members_of_orgs(me.scope(), chunk).await?;
        if batch.is_empty() {
            continue;
        }
        if tx.send(batch).await.is_err() {
            // The writer stopped: its error says why.
            break;
        }
    }
    drop(tx);
    writer
        .await
        .map_err(|e| AppError::Internal(format!("roster writer: {e}")))?
}

pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    let path = state.jobs.scratch_path()?;
    let written = write_roster(&state, &me, tr, &node, path.clone(), Default::default()).await;
    let bytes = match written {
        Ok(_) => tokio::fs::read(&path)
            .await
            .map_err(|e| AppError::Internal(format!("roster file: {e}"))),
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&path).await;
    crate::excel::xlsx_response(bytes?, &format!("members-{code}.xlsx"))
}

/// Starts exporting the roster under the node as a job (for a county's or a province's roster):
/// the answer is the job's page, with the file to download when it is done.
pub(super) async fn export_job(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    let id = start_export_job(&state, &me, tr, &node).await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// Starts the roster export of `node` as a job; returns its id.
pub(super) async fn start_export_job(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    node: &Node,
) -> Result<i64, AppError> {
    use baiqian_store::job::{JobEnd, JobKind};
    let me = me.clone();
    let node = node.clone();
    let code = node.code.to_string();
    crate::job::start(
        state,
        &me.clone(),
        JobKind::MemberExport,
        &code,
        move |state, progress| async move {
            let id = progress.id();
            let part = state.jobs.part_path(id);
            let rows = write_roster(&state, &me, tr, &node, part.clone(), progress.clone()).await?;
            tokio::fs::rename(&part, state.jobs.file_path(id))
                .await
                .map_err(|e| AppError::Internal(format!("export file: {e}")))?;
            let (found, _) = progress.get();
            Ok(JobEnd {
                rows_found: found.max(i64::from(rows)),
                rows_done: i64::from(rows),
                created: i64::from(rows),
                file_name: Some(format!("members-{}.xlsx", node.code)),
                ..JobEnd::default()
            })
        },
    )
    .await
}
