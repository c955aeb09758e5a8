//! The roster's import from Excel: read as officials' sheets are, previewed, then written
//! as a job.

use super::*;
use crate::excel::Column;
use baiqian_domain::member::IdNumber;
use baiqian_domain::org::{Level, OrgCode};

#[derive(Template)]
#[template(path = "member/import.html")]
pub(super) struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
    preview: Option<Preview>,
}

/// What an upload would import, shown before anything is written: where the header was found,
/// which sheet column each field was read from, the first rows as they would be stored, and
/// every problem (in `report`).
pub(super) struct Preview {
    pub draft: String,
    /// The sheet's row number of the header.
    pub header_row: usize,
    /// (the platform's header, the sheet's header it was read from, or empty).
    pub mapping: Vec<(&'static str, String)>,
    pub rows: Vec<[String; 6]>,
    pub good: usize,
    pub bad_rows: usize,
}

/// How many rows a preview shows.
const PREVIEW_ROWS: usize = 10;

pub(super) async fn import_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    html(&ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: false,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
        preview: None,
    })
}

/// The roster's columns as officials' sheets name them (党员花名册): the template's header first,
/// then the other words in use. Spaces, full-width spaces and punctuation are ignored.
pub const IMPORT_COLUMNS: [Column; 11] = [
    Column {
        field: "name",
        header: "姓名",
        synonyms: &["党员姓名", "名字"],
        required: true,
    },
    Column {
        field: "gender",
        header: "性别",
        synonyms: &[],
        required: false,
    },
    Column {
        field: "birth_date",
        header: "出生日期",
        synonyms: &["出生年月", "出生年月日", "出生时间"],
        required: false,
    },
    Column {
        field: "id_number",
        header: "身份证号",
        synonyms: &["身份证号码", "公民身份号码", "身份证", "公民身份证号码"],
        required: true,
    },
    Column {
        field: "phone",
        header: "手机号",
        synonyms: &["联系电话", "手机号码", "手机", "电话", "联系方式"],
        required: false,
    },
    Column {
        field: "home_org",
        header: "组织关系所在地代码",
        synonyms: &[
            "所在党组织",
            "组织关系所在地",
            "所在支部",
            "党组织",
            "所属党组织",
            "党组织代码",
        ],
        required: false,
    },
    Column {
        field: "joined",
        header: "入党日期",
        synonyms: &["入党时间", "入党年月", "入党年月日"],
        required: true,
    },
    Column {
        field: "workplace",
        header: "工作单位",
        synonyms: &["工作单位及职务", "单位", "工作单位及职位"],
        required: false,
    },
    Column {
        field: "mobile",
        header: "流动党员",
        synonyms: &["是否流动党员"],
        required: false,
    },
    Column {
        field: "mobile_where",
        header: "流动去向",
        synonyms: &["外出流向", "流入地"],
        required: false,
    },
    Column {
        field: "confirmed",
        header: "转正日期",
        synonyms: &["转正时间", "转正年月", "转正年月日"],
        required: false,
    },
];

/// Finds a member's organization by what the sheet says: a code, or a name ("新民村",
/// "新民村党支部", "新民村党总支") among the nodes under the importing page's node. Indexed once
/// per file, so a province's roster resolves each row in constant time.
pub(super) struct OrgNames {
    page_code: String,
    page_is_unit: bool,
    codes: std::collections::HashSet<String>,
    /// Folded name, Party organization name and bare name → the nodes so named.
    by_key: std::collections::HashMap<String, Vec<usize>>,
    node_codes: Vec<String>,
    labels: Vec<String>,
}

/// A name without its Party organization suffix: "新民村党支部" → "新民村".
fn bare_name(s: &str) -> String {
    for suffix in ["党总支部", "党总支", "党支部", "党委", "总支", "支部"] {
        if let Some(rest) = s.strip_suffix(suffix)
            && !rest.is_empty()
        {
            return rest.to_string();
        }
    }
    s.to_string()
}

impl OrgNames {
    pub(super) fn new(page: &Node, nodes: &[Node]) -> Self {
        use baiqian_domain::sheet::header_key;
        let mut by_key: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, n) in nodes.iter().enumerate() {
            let name = header_key(&n.name);
            let party = header_key(&n.party_org_name);
            let mut keys = vec![name.clone(), party];
            keys.retain(|k| !k.is_empty());
            keys.dedup();
            for k in keys {
                let e = by_key.entry(k).or_default();
                if !e.contains(&i) {
                    e.push(i);
                }
            }
        }
        Self {
            page_code: page.code.to_string(),
            page_is_unit: matches!(
                page.level,
                Level::Village | Level::Enterprise | Level::Institution
            ),
            codes: nodes.iter().map(|n| n.code.to_string()).collect(),
            node_codes: nodes.iter().map(|n| n.code.to_string()).collect(),
            by_key,
            labels: nodes
                .iter()
                .map(|n| format!("{} {}", n.name, n.code))
                .collect(),
        }
    }

    fn resolve(&self, cell: &str) -> Result<String, Msg> {
        let v = baiqian_domain::sheet::header_key(cell);
        if v.is_empty() {
            return if self.page_is_unit {
                Ok(self.page_code.clone())
            } else {
                Err(Msg::new("import.error.org_missing"))
            };
        }
        if let Ok(code) = OrgCode::parse(cell) {
            return if self.codes.contains(code.as_str()) {
                Ok(code.to_string())
            } else {
                Err(Msg::new("org.error.parent_not_found").arg("code", code.as_str()))
            };
        }
        let mut found: Vec<usize> = self.by_key.get(&v).cloned().unwrap_or_default();
        if found.is_empty() {
            found = self.by_key.get(&bare_name(&v)).cloned().unwrap_or_default();
        }
        match found.as_slice() {
            [one] => self
                .node_codes
                .get(*one)
                .cloned()
                .ok_or_else(|| Msg::new("import.error.org_unknown").arg("name", cell)),
            [] => Err(Msg::new("import.error.org_unknown").arg("name", cell)),
            many => Err(Msg::new("import.error.org_ambiguous")
                .arg("name", cell)
                .arg(
                    "candidates",
                    many.iter()
                        .filter_map(|i| self.labels.get(*i).cloned())
                        .collect::<Vec<_>>()
                        .join("、"),
                )),
        }
    }
}

/// One sheet row as the form would have it: dates completed from the ID number where the sheet
/// gives only the month (and checked against it), gender and birth date taken from the ID number
/// where the sheet has none, the organization resolved by name. Every problem is reported with
/// its column; nothing is chosen silently.
fn normalize(cells: &[String], orgs: &OrgNames) -> (MemberInput, Vec<(&'static str, Msg)>) {
    use baiqian_domain::sheet::{fold, parse_loose_date};
    let mut errs = Vec::new();
    let cell = |k: usize| cells.get(k).map(|c| fold(c)).unwrap_or_default();
    let id_text: String = cell(3)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let id = IdNumber::parse(&id_text).ok();
    let gender = match cell(1).to_ascii_lowercase().as_str() {
        "" => id
            .as_ref()
            .map(|i| i.gender().as_str().to_string())
            .unwrap_or_default(),
        "男" | "m" | "male" => "M".into(),
        "女" | "f" | "female" => "F".into(),
        other => other.to_string(),
    };
    let birth_raw = cell(2);
    let birth = if birth_raw.is_empty() {
        id.as_ref().and_then(|i| i.birth_date()).unwrap_or_default()
    } else {
        match parse_loose_date(&birth_raw) {
            Some(d) => match (d.full(), id.as_ref().and_then(|i| i.birth_date())) {
                (Some(full), _) => full,
                // Month precision: the ID number supplies the day, when it agrees.
                (None, Some(from_id)) if from_id.starts_with(&d.month_text()) => from_id,
                (None, Some(_)) => {
                    errs.push((
                        "birth_date",
                        Msg::new("import.error.birth_month_differs").arg("date", &birth_raw),
                    ));
                    String::new()
                }
                (None, None) => {
                    errs.push((
                        "birth_date",
                        Msg::new("import.error.date_month_only").arg("date", &birth_raw),
                    ));
                    String::new()
                }
            },
            None => birth_raw.clone(),
        }
    };
    // Dates of Party life keep the month where the register gives only that (1974年7月).
    let record = |raw: String| match parse_loose_date(&raw) {
        Some(d) => d.text(),
        None => raw,
    };
    let joined = record(cell(6));
    let confirmed = record(cell(10));
    let home_org = match orgs.resolve(&cell(5)) {
        Ok(code) => code,
        Err(m) => {
            errs.push(("home_org", m));
            String::new()
        }
    };
    let mobile = match cell(8).as_str() {
        "是" | "1" | "yes" | "Y" | "y" | "√" => "是".to_string(),
        _ => String::new(),
    };
    // "佘　胜": a Chinese name spaced out to line up in the column is one name.
    let name = cell(0);
    let name = if name
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| c as u32 >= 0x3400)
    {
        name.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        name
    };
    let input = MemberInput {
        name,
        gender,
        birth_date: birth,
        id_number: id_text,
        phone: cell(4)
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect(),
        home_org,
        joined,
        confirmed,
        workplace: cell(7),
        mobile,
        mobile_where: cell(9),
    };
    (input, errs)
}

/// A batch of a roster file as read: parsed rows, bad ones, and how many sheet rows it covers.
pub(super) struct RosterBatch {
    pub good: Vec<(usize, NewMember)>,
    pub errors: Vec<ImportError>,
    pub rows: usize,
}

/// The header a roster file was found to have.
pub(super) struct RosterHeader {
    /// The sheet's row number of the header.
    pub row: usize,
    pub mapping: Vec<(&'static str, String)>,
}

/// Reads a roster sheet as officials keep it, streaming: `header` once the header is found, then
/// batches of parsed rows, bad cells reported by the sheet's own row number and column; the same
/// person twice in the file is reported on the later row. A missing column comes as one batch of
/// errors on the header row. Stops when `batch` returns false. `Err` when the file is unreadable.
pub(super) fn read_roster(
    src: &crate::excel::stream::Source<'_>,
    orgs: &OrgNames,
    found: &mut dyn FnMut(usize),
    header: &mut dyn FnMut(RosterHeader),
    batch: &mut dyn FnMut(RosterBatch) -> bool,
) -> Result<(), Msg> {
    use crate::excel::stream::{MAX_STREAM_ROWS, SheetItem, for_each_located};
    let mut seen: std::collections::HashMap<[u8; 18], usize> = Default::default();
    let mut current = RosterBatch {
        good: Vec::new(),
        errors: Vec::new(),
        rows: 0,
    };
    let mut go = true;
    let outcome = for_each_located(src, &IMPORT_COLUMNS, MAX_STREAM_ROWS, found, &mut |item| {
        let (row, cells) = match item {
            SheetItem::Header(at, cells) => {
                header(RosterHeader {
                    row: at.header_row + 1,
                    mapping: IMPORT_COLUMNS
                        .iter()
                        .zip(&at.idx)
                        .map(|(c, i)| {
                            (
                                c.header,
                                i.and_then(|i| cells.get(i).cloned()).unwrap_or_default(),
                            )
                        })
                        .collect(),
                });
                return true;
            }
            SheetItem::Row(row, cells) => (row, cells),
        };
        current.rows += 1;
        let (input, mut errs) = normalize(&cells, orgs);
        match parse_member(&input) {
            Ok(m) if errs.is_empty() => {
                let mut key = [0u8; 18];
                let id = m.id_number.as_str().as_bytes();
                let n = id.len().min(18);
                key[..n].copy_from_slice(&id[..n]);
                if let Some(first) = seen.get(&key) {
                    current.errors.push(ImportError {
                        row,
                        column: "id_number",
                        msg: Msg::new("import.error.duplicate_id").arg("row", *first),
                    });
                } else {
                    seen.insert(key, row);
                    current.good.push((row, m));
                }
            }
            Ok(_) => {}
            Err(more) => errs.extend(more),
        }
        // One error a cell: what reading the sheet found first (a wrong month, an unknown
        // organization), not the empty value it left behind.
        let mut reported = std::collections::HashSet::new();
        current.errors.extend(
            errs.into_iter()
                .filter(|(column, _)| reported.insert(*column))
                .map(|(column, msg)| ImportError { row, column, msg }),
        );
        if current.good.len() >= baiqian_store::member::IMPORT_BATCH {
            go = batch(std::mem::replace(
                &mut current,
                RosterBatch {
                    good: Vec::new(),
                    errors: Vec::new(),
                    rows: 0,
                },
            ));
        }
        go
    })?;
    if let Err(missing) = outcome {
        current.errors.extend(missing);
    }
    if go {
        batch(current);
    }
    Ok(())
}

pub(super) fn header_of(field: &str) -> &'static str {
    IMPORT_COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header)
        .unwrap_or("")
}

fn both_languages(m: &Msg) -> String {
    format!(
        "{} / {}",
        Tr::new(Lang::Zh).msg(m),
        Tr::new(Lang::En).msg(m)
    )
}

/// What a preview read of a file.
struct RosterRead {
    header: Option<RosterHeader>,
    first: Vec<(usize, NewMember)>,
    good: usize,
    errors: Vec<ImportError>,
}

/// Reads a whole file as the import would, writing nothing.
async fn read_for_preview(
    nodes: Vec<Node>,
    page: Node,
    src: crate::excel::stream::Source<'static>,
) -> Result<Result<RosterRead, Msg>, AppError> {
    tokio::task::spawn_blocking(move || {
        let orgs = OrgNames::new(&page, &nodes);
        let mut read = RosterRead {
            header: None,
            first: Vec::new(),
            good: 0,
            errors: Vec::new(),
        };
        let mut header = None;
        let outcome = read_roster(
            &src,
            &orgs,
            &mut |_| {},
            &mut |h| header = Some(h),
            &mut |b| {
                read.good += b.good.len();
                let room = PREVIEW_ROWS.saturating_sub(read.first.len());
                read.first.extend(b.good.into_iter().take(room));
                read.errors.extend(b.errors);
                true
            },
        );
        read.header = header;
        read.errors.sort_by_key(|e| e.row);
        outcome.map(|()| read)
    })
    .await
    .map_err(|e| AppError::Internal(format!("preview: {e}")))
}

/// The preview of an upload: nothing is written; the file waits (as a draft) for the user to
/// choose how to import it.
async fn preview_page(
    state: &AppState,
    me: &CurrentUser,
    mut page: ImportPage,
    file: Option<crate::excel::upload::UploadedFile>,
) -> Result<Response, AppError> {
    page.done = false;
    let refuse = |mut page: ImportPage, m: Msg| -> Result<Response, AppError> {
        page.file_error = Some(both_languages(&m));
        let mut res = html(&page)?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(res)
    };
    let file = match crate::excel::upload::require(file) {
        Ok(f) => f,
        Err(m) => return refuse(page, m),
    };
    let nodes = state
        .db
        .org_subtree(me.scope(), &page.org.code, false)
        .await?;
    let read = match read_for_preview(nodes.clone(), page.org.clone(), file.source()).await? {
        Ok(r) => r,
        Err(m) => return refuse(page, m),
    };
    let Some(header) = read.header else {
        page.report = crate::form::report_rows_with(&read.errors, header_of);
        let mut res = html(&page)?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };
    let org_name = |code: &OrgCode| {
        nodes
            .iter()
            .find(|n| n.code == *code)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let mut bad: Vec<usize> = read.errors.iter().map(|e| e.row).collect();
    bad.dedup();
    page.preview = Some(Preview {
        draft: state.drafts.put(
            me.user.id,
            page.org.code.as_str(),
            file,
            state.clock.now_ms(),
        )?,
        header_row: header.row,
        mapping: header.mapping,
        rows: read
            .first
            .iter()
            .map(|(_, m)| {
                [
                    m.name.clone(),
                    m.gender.zh().to_string(),
                    m.birth_date.clone(),
                    m.id_number.masked(),
                    org_name(&m.home_org),
                    m.joined.clone(),
                ]
            })
            .collect(),
        good: read.good,
        bad_rows: bad.len(),
    });
    page.report = crate::form::report_rows_with(&read.errors, header_of);
    html(&page)
}

#[derive(serde::Deserialize)]
pub(super) struct CommitForm {
    draft: String,
    #[serde(default)]
    mode: String,
}

/// Imports an upload the user has seen the preview of, as they chose (all or nothing, or the
/// good rows only), as a job: the answer is the job's page, which shows its progress and then
/// what was imported.
pub(super) async fn import_commit(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<CommitForm>,
) -> Result<Response, AppError> {
    use baiqian_store::import::ImportMode;
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let mode = if form.mode == "good_rows" {
        ImportMode::GoodRowsOnly
    } else {
        ImportMode::AllOrNothing
    };
    let Some(file) = state.drafts.take(
        &form.draft,
        me.user.id,
        node.code.as_str(),
        state.clock.now_ms(),
    )?
    else {
        let mut page = ImportPage {
            tr,
            f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
            org: node,
            done: true,
            committed: false,
            created: 0,
            file_error: Some(both_languages(&Msg::new("import.error.draft_gone"))),
            report: Vec::new(),
            preview: None,
        };
        page.done = true;
        let mut res = html(&page)?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };
    let id = start_import_job(&state, &me, &node, file, mode).await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// Starts importing `file` on `node`'s page as a job; returns its id.
pub(super) async fn start_import_job(
    state: &AppState,
    me: &CurrentUser,
    node: &Node,
    file: crate::excel::upload::UploadedFile,
    mode: baiqian_store::import::ImportMode,
) -> Result<i64, AppError> {
    use baiqian_store::job::{JobEnd, JobKind};
    let me = me.clone();
    let node = node.clone();
    let code = node.code.to_string();
    crate::job::start(
        state,
        &me.clone(),
        JobKind::MemberImport,
        &code,
        move |state, progress| async move {
            let outcome =
                import_source(&state, &me, &node, file.source(), mode, progress.clone()).await?;
            let (found, done) = progress.get();
            Ok(match outcome {
                Err(m) => JobEnd {
                    rows_found: found,
                    rows_done: done,
                    result_json: Some(crate::job::file_error_json(&m)),
                    ..JobEnd::default()
                },
                // Read to the end: the rows found are the data rows read (the sheet's declared
                // size counted its title lines too).
                Ok(out) => JobEnd {
                    rows_found: done,
                    rows_done: done,
                    created: out.created as i64,
                    error_count: out.errors.len() as i64,
                    result_json: Some(crate::job::report_json(
                        out.committed,
                        &crate::form::report_rows_with(
                            &out.errors[..out.errors.len().min(crate::job::MAX_REPORTED)],
                            header_of,
                        ),
                    )),
                    file_name: None,
                },
            })
        },
    )
    .await
}

/// Imports a roster file on `node`'s page, streaming: the file read on a blocking thread in
/// batches, each batch checked and written as it comes, all in one transaction. The outcome, or
/// why the file itself was refused.
pub(super) async fn import_source(
    state: &AppState,
    me: &CurrentUser,
    node: &Node,
    src: crate::excel::stream::Source<'static>,
    mode: baiqian_store::import::ImportMode,
    progress: std::sync::Arc<crate::job::Progress>,
) -> Result<Result<baiqian_store::import::ImportOutcome, Msg>, AppError> {
    let nodes = state.db.org_subtree(me.scope(), &node.code, false).await?;
    let orgs = OrgNames::new(node, &nodes);
    drop(nodes);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<RosterBatch>(4);
    let found = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        read_roster(
            &src,
            &orgs,
            &mut |n| found.found(n as i64),
            &mut |_| {},
            &mut |b| tx.blocking_send(b).is_ok(),
        )
    });
    let mut import = state
        .db
        .begin_member_import(&me.actor, &state.vault, state.clock.now_ms())
        .await?;
    while let Some(b) = rx.recv().await {
        let rows = b.rows as i64;
        import.reject(b.errors);
        import.add(b.good).await?;
        progress.advance(rows);
    }
    match reader
        .await
        .map_err(|e| AppError::Internal(format!("import reader: {e}")))?
    {
        // Dropping the import rolls back what it wrote.
        Err(m) => Ok(Err(m)),
        Ok(()) => Ok(Ok(import.finish(mode).await?)),
    }
}

/// Imports an uploaded roster file (a form's or the API's upload) while the request waits.
pub(super) async fn import_file(
    state: &AppState,
    me: &CurrentUser,
    node: &Node,
    file: Option<crate::excel::upload::UploadedFile>,
    mode: baiqian_store::import::ImportMode,
) -> Result<Result<baiqian_store::import::ImportOutcome, Msg>, AppError> {
    let file = match crate::excel::upload::require(file) {
        Ok(f) => f,
        Err(m) => return Ok(Err(m)),
    };
    import_source(state, me, node, file.source(), mode, Default::default()).await
}

pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let crate::excel::Upload {
        file,
        mode,
        preview,
    } = crate::excel::read_upload(&mut multipart, crate::state::MAX_ROSTER_UPLOAD_BYTES).await?;
    let mut page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: true,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
        preview: None,
    };
    if preview {
        return preview_page(&state, &me, page, file).await;
    }
    let status = match import_file(&state, &me, &page.org, file, mode).await? {
        Err(m) => {
            page.file_error = Some(format!(
                "{} / {}",
                Tr::new(Lang::Zh).msg(&m),
                Tr::new(Lang::En).msg(&m)
            ));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(out) => {
            page.committed = out.committed;
            page.created = out.created;
            page.report = crate::form::report_rows_with(&out.errors, header_of);
            if out.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    };
    let mut res = html(&page)?;
    *res.status_mut() = status;
    Ok(res)
}
