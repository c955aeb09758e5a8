//! The roster's export and import as Excel.

use super::*;
use crate::excel::Column;
use baiqian_domain::member::IdNumber;
use baiqian_domain::org::{Level, OrgCode};

/// The roster as exported: field and Chinese header. The organization by name, its code beside.
pub const MEMBER_COLUMNS: [(&str, &str); 11] = [
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
];

/// The roster's import template: the headers officials fill in under a title line, an example
/// row, drop-down lists where a column has fixed values, and a sheet saying how each column may
/// be written (and which other header words are read).
pub(super) async fn template(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use rust_xlsxwriter::{DataValidation, Format, Workbook};
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("党员名册").map_err(xerr)?;
    ws.write_string_with_format(0, 0, tr.f("template.title", &[("node", &node.name)]), &bold)
        .map_err(xerr)?;
    let example = [
        "许月刚",
        "男",
        "1965-10-25",
        "",
        "13600001725",
        node.name.as_str(),
        "1992-07-01",
        "天能集团",
        "否",
        "",
    ];
    for (c, col) in IMPORT_COLUMNS.iter().enumerate() {
        let c16 = c as u16;
        ws.write_string_with_format(1, c16, col.header, &bold)
            .map_err(xerr)?;
        ws.write_string(2, c16, example[c]).map_err(xerr)?;
        ws.set_column_width(c16, 14).map_err(xerr)?;
        let list: &[&str] = match col.field {
            "gender" => &["男", "女"],
            "mobile" => &["是", "否"],
            _ => &[],
        };
        if !list.is_empty() {
            let v = DataValidation::new()
                .allow_list_strings(list)
                .map_err(xerr)?;
            ws.add_data_validation(2, c16, 5001, c16, &v)
                .map_err(xerr)?;
        }
    }
    ws.set_freeze_panes(2, 0).map_err(xerr)?;
    let help = wb.add_worksheet();
    help.set_name(tr.t("template.instructions")).map_err(xerr)?;
    for (c, key) in [
        "template.col_column",
        "template.col_required",
        "template.col_forms",
        "template.col_also",
    ]
    .iter()
    .enumerate()
    {
        help.write_string_with_format(0, c as u16, tr.t(key), &bold)
            .map_err(xerr)?;
    }
    for (r, col) in IMPORT_COLUMNS.iter().enumerate() {
        let r = (r + 1) as u32;
        help.write_string(r, 0, col.header).map_err(xerr)?;
        let required = if col.required {
            "template.yes"
        } else {
            "template.no"
        };
        help.write_string(r, 1, tr.t(required)).map_err(xerr)?;
        help.write_string(r, 2, tr.t(&format!("template.forms.{}", col.field)))
            .map_err(xerr)?;
        help.write_string(r, 3, col.synonyms.join("、"))
            .map_err(xerr)?;
    }
    let last = IMPORT_COLUMNS.len() as u32 + 2;
    help.write_string(last, 0, tr.t("template.note"))
        .map_err(xerr)?;
    for (c, w) in [(0u16, 18.0), (1, 8.0), (2, 60.0), (3, 40.0)] {
        help.set_column_width(c, w).map_err(xerr)?;
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::excel::xlsx_response(bytes, &format!("members-template-{code}.xlsx"))
}

pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let node = state.db.org(me.scope(), &code).await?;
    let members = state
        .db
        .members_under(me.scope(), &code, "", 1_000_000, 0)
        .await?;
    let text = |s: &str| Cell::Text(s.to_string());
    // Personal data leaves the system masked.
    let rows: Vec<Vec<Cell>> = members
        .iter()
        .map(|m| {
            vec![
                text(&m.name),
                text(Gender::parse(&m.gender).map(Gender::zh).unwrap_or("")),
                Cell::Date(m.birth_date.clone()),
                text(&m.id_masked),
                text(m.phone_masked.as_deref().unwrap_or("")),
                text(&m.home_org_name),
                text(&m.home_org),
                Cell::Date(m.joined.clone()),
                text(m.workplace.as_deref().unwrap_or("")),
                text(if m.mobile { "是" } else { "否" }),
                text(m.mobile_where.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let title =
        crate::excel::export_title(tr, "export.roster", &node.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("党员名册", &title, &MEMBER_COLUMNS, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("members-{code}.xlsx"))
}

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
pub const IMPORT_COLUMNS: [Column; 10] = [
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
];

/// Finds a member's organization by what the sheet says: a code, or a name ("新民村",
/// "新民村党支部", "新民村党总支") among the nodes under the importing page's node.
pub(super) struct OrgNames<'a> {
    page: &'a Node,
    nodes: &'a [Node],
}

impl<'a> OrgNames<'a> {
    pub(super) fn new(page: &'a Node, nodes: &'a [Node]) -> Self {
        Self { page, nodes }
    }

    fn resolve(&self, cell: &str) -> Result<String, Msg> {
        let v = baiqian_domain::sheet::header_key(cell);
        if v.is_empty() {
            return if matches!(
                self.page.level,
                Level::Village | Level::Enterprise | Level::Institution
            ) {
                Ok(self.page.code.to_string())
            } else {
                Err(Msg::new("import.error.org_missing"))
            };
        }
        if let Ok(code) = OrgCode::parse(cell) {
            return Ok(code.to_string());
        }
        let strip = |s: &str| -> String {
            let mut t = s.to_string();
            for suffix in ["党总支部", "党总支", "党支部", "党委", "总支", "支部"] {
                if let Some(rest) = t.strip_suffix(suffix)
                    && !rest.is_empty()
                {
                    t = rest.to_string();
                    break;
                }
            }
            t
        };
        let bare = strip(&v);
        let found: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|n| {
                let name = baiqian_domain::sheet::header_key(&n.name);
                let party = baiqian_domain::sheet::header_key(&n.party_org_name);
                name == v || party == v || name == bare
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one.code.to_string()),
            [] => Err(Msg::new("import.error.org_unknown").arg("name", cell)),
            many => Err(Msg::new("import.error.org_ambiguous")
                .arg("name", cell)
                .arg(
                    "candidates",
                    many.iter()
                        .map(|n| format!("{} {}", n.name, n.code))
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
fn normalize(cells: &[String], orgs: &OrgNames<'_>) -> (MemberInput, Vec<(&'static str, Msg)>) {
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
    let joined_raw = cell(6);
    let joined = match parse_loose_date(&joined_raw) {
        Some(d) => d.full().unwrap_or_else(|| {
            errs.push((
                "joined",
                Msg::new("import.error.date_month_only").arg("date", &joined_raw),
            ));
            String::new()
        }),
        None => joined_raw.clone(),
    };
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
        workplace: cell(7),
        mobile,
        mobile_where: cell(9),
    };
    (input, errs)
}

/// Rows of a roster sheet as officials keep it, parsed; bad cells reported by the sheet's own
/// row number and column. The same person twice in the file is reported on the later row.
pub(super) fn member_rows(
    table: &[Vec<String>],
    orgs: &OrgNames<'_>,
) -> (Vec<(usize, NewMember)>, Vec<ImportError>) {
    let at = match crate::excel::locate(table, &IMPORT_COLUMNS) {
        Ok(at) => at,
        Err(errors) => return (Vec::new(), errors),
    };
    let mut errors = Vec::new();
    let mut good = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (row, cells) in crate::excel::rows_below(table, &at) {
        let (input, mut errs) = normalize(&cells, orgs);
        match parse_member(&input) {
            Ok(m) if errs.is_empty() => {
                if let Some(first) = seen.get(m.id_number.as_str()) {
                    errors.push(ImportError {
                        row,
                        column: "id_number",
                        msg: Msg::new("import.error.duplicate_id").arg("row", *first),
                    });
                } else {
                    seen.insert(m.id_number.as_str().to_string(), row);
                    good.push((row, m));
                }
            }
            Ok(_) => {}
            Err(more) => errs.extend(more),
        }
        // One error a cell: what reading the sheet found first (a wrong month, an unknown
        // organization), not the empty value it left behind.
        let mut reported = std::collections::HashSet::new();
        errors.extend(
            errs.into_iter()
                .filter(|(column, _)| reported.insert(*column))
                .map(|(column, msg)| ImportError { row, column, msg }),
        );
    }
    (good, errors)
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

/// The preview of an upload: nothing is written; the file waits (as a draft) for the user to
/// choose how to import it.
async fn preview_page(
    state: &AppState,
    me: &CurrentUser,
    mut page: ImportPage,
    file: Vec<u8>,
) -> Result<Response, AppError> {
    page.done = false;
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        crate::excel::read_first_sheet(&file)
    };
    let table = match table {
        Ok(t) => t,
        Err(m) => {
            page.file_error = Some(both_languages(&m));
            let mut res = html(&page)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
    };
    let at = match crate::excel::locate(&table, &IMPORT_COLUMNS) {
        Ok(at) => at,
        Err(errors) => {
            page.report = crate::form::report_rows_with(&errors, header_of);
            let mut res = html(&page)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
    };
    let nodes = state
        .db
        .org_subtree(me.scope(), &page.org.code, false)
        .await?;
    let (good, errors) = member_rows(&table, &OrgNames::new(&page.org, &nodes));
    let org_name = |code: &OrgCode| {
        nodes
            .iter()
            .find(|n| n.code == *code)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let header = &table[at.header_row];
    let mut bad: Vec<usize> = errors.iter().map(|e| e.row).collect();
    bad.dedup();
    page.preview = Some(Preview {
        draft: state.drafts.put(
            me.user.id,
            page.org.code.as_str(),
            file,
            state.clock.now_ms(),
        )?,
        header_row: at.header_row + 1,
        mapping: IMPORT_COLUMNS
            .iter()
            .zip(&at.idx)
            .map(|(c, i)| {
                (
                    c.header,
                    i.and_then(|i| header.get(i)).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        rows: good
            .iter()
            .take(PREVIEW_ROWS)
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
        good: good.len(),
        bad_rows: bad.len(),
    });
    page.report = crate::form::report_rows_with(&errors, header_of);
    html(&page)
}

#[derive(serde::Deserialize)]
pub(super) struct CommitForm {
    draft: String,
    #[serde(default)]
    mode: String,
}

/// Imports an upload the user has seen the preview of, as they chose: all or nothing, or the
/// good rows only.
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
    let Some(file) = state.drafts.take(
        &form.draft,
        me.user.id,
        page.org.code.as_str(),
        state.clock.now_ms(),
    )?
    else {
        page.file_error = Some(both_languages(&Msg::new("import.error.draft_gone")));
        let mut res = html(&page)?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    };
    let status = match import_file(&state, &me, &page.org, &file, mode).await? {
        Err(m) => {
            page.file_error = Some(both_languages(&m));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(out) => {
            page.committed = out.committed;
            page.created = out.created;
            page.report = crate::form::report_rows_with(&out.errors, header_of);
            if out.committed || out.errors.is_empty() {
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

/// Imports a roster file on `node`'s page: the outcome, or why the file itself was refused.
pub(super) async fn import_file(
    state: &AppState,
    me: &CurrentUser,
    node: &Node,
    file: &[u8],
    mode: baiqian_store::import::ImportMode,
) -> Result<Result<baiqian_store::import::ImportOutcome, Msg>, AppError> {
    let table = if file.is_empty() {
        return Ok(Err(Msg::new("import.error.no_file")));
    } else {
        match crate::excel::read_first_sheet(file) {
            Ok(t) => t,
            Err(m) => return Ok(Err(m)),
        }
    };
    let nodes = state.db.org_subtree(me.scope(), &node.code, false).await?;
    let (rows, errors) = member_rows(&table, &OrgNames::new(node, &nodes));
    Ok(Ok(state
        .db
        .import_members(
            &me.actor,
            &state.vault,
            rows,
            errors,
            mode,
            state.clock.now_ms(),
        )
        .await?))
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
    } = crate::excel::read_upload(&mut multipart).await?;
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
    let status = match import_file(&state, &me, &page.org, &file, mode).await? {
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
