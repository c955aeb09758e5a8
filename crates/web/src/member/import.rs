//! The roster's export and import as Excel.

use super::*;

/// The roster sheet's columns: field and Chinese header.
pub const MEMBER_COLUMNS: [(&str, &str); 10] = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("phone", "手机号"),
    ("home_org", "组织关系所在地代码"),
    ("joined", "入党日期"),
    ("workplace", "工作单位"),
    ("mobile", "流动党员"),
    ("mobile_where", "流动去向"),
];

pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let members = state
        .db
        .members_under(me.scope(), &code, "", 1_000_000, 0)
        .await?;
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("党员名册").map_err(xerr)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, (_, h)) in MEMBER_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xerr)?;
    }
    for (i, m) in members.iter().enumerate() {
        let r = (i + 1) as u32;
        let gender = Gender::parse(&m.gender).map(Gender::zh).unwrap_or("");
        // Personal data leaves the system masked.
        let cells = [
            m.name.as_str(),
            gender,
            m.birth_date.as_str(),
            m.id_masked.as_str(),
            m.phone_masked.as_deref().unwrap_or(""),
            m.home_org.as_str(),
            m.joined.as_str(),
            m.workplace.as_deref().unwrap_or(""),
            if m.mobile { "是" } else { "否" },
            m.mobile_where.as_deref().unwrap_or(""),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(r, c as u16, *v).map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
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
}

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
    })
}

/// Rows of the roster sheet, parsed; bad cells reported by row (the sheet's) and column.
pub(super) fn member_rows(table: &[Vec<String>]) -> (Vec<(usize, NewMember)>, Vec<ImportError>) {
    let mut errors = Vec::new();
    let Some(header) = table.first() else {
        return (
            Vec::new(),
            vec![ImportError {
                row: 1,
                column: "name",
                msg: Msg::new("import.error.empty"),
            }],
        );
    };
    let mut idx = [usize::MAX; 10];
    for (k, (field, zh)) in MEMBER_COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h == zh || h == field) {
            Some(i) => idx[k] = i,
            None if matches!(*field, "phone" | "workplace" | "mobile" | "mobile_where") => {}
            None => errors.push(ImportError {
                row: 1,
                column: field,
                msg: Msg::new("import.error.missing_column").arg("column", zh),
            }),
        }
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let cell = |row: &Vec<String>, k: usize| {
        idx.get(k)
            .and_then(|&i| row.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut good = Vec::new();
    for (i, row) in table.iter().enumerate().skip(1) {
        if row.iter().all(String::is_empty) {
            continue;
        }
        let input = MemberInput {
            name: cell(row, 0),
            gender: cell(row, 1),
            birth_date: cell(row, 2),
            id_number: cell(row, 3),
            phone: cell(row, 4),
            home_org: cell(row, 5),
            joined: cell(row, 6),
            workplace: cell(row, 7),
            mobile: cell(row, 8),
            mobile_where: cell(row, 9),
        };
        match parse_member(&input) {
            Ok(m) => good.push((i + 1, m)),
            Err(errs) => errors.extend(errs.into_iter().map(|(column, msg)| ImportError {
                row: i + 1,
                column,
                msg,
            })),
        }
    }
    (good, errors)
}

pub(super) fn header_of(field: &str) -> &'static str {
    MEMBER_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
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
    let (file, mode) = crate::excel::read_upload(&mut multipart).await?;
    let mut page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: true,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    };
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        crate::excel::read_first_sheet(&file)
    };
    let status = match table {
        Err(m) => {
            page.file_error = Some(format!(
                "{} / {}",
                Tr::new(Lang::Zh).msg(&m),
                Tr::new(Lang::En).msg(&m)
            ));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(table) => {
            let (rows, errors) = member_rows(&table);
            let out = state
                .db
                .import_members(
                    &me.actor,
                    &state.vault,
                    rows,
                    errors,
                    mode,
                    state.clock.now_ms(),
                )
                .await?;
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
