//! Spreadsheets officials exchange: the tree as `.xlsx` with Chinese headers, read back the same.

use baiqian_domain::Msg;
use baiqian_domain::sheet::{fold, header_key, is_total_row, parse_loose_date};
use baiqian_store::import::ImportError;
use baiqian_store::kernel::Node;
use baiqian_store::org::ImportRow;
use calamine::Data;
use rust_xlsxwriter::{Format, Workbook};

use crate::error::AppError;

mod legacy;
pub mod stream;
pub mod upload;

/// The tree sheet's columns: field name (as import errors name it) and Chinese header.
pub const ORG_COLUMNS: [(&str, &str); 8] = [
    ("code", "代码"),
    ("name", "名称"),
    ("level", "层级"),
    ("parent_code", "上级代码"),
    ("party_org_kind", "党组织类型"),
    ("party_org_name", "党组织名称"),
    ("secretary_name", "书记"),
    ("member_count", "党员数"),
];

/// Largest number of rows read from one sheet.
pub const MAX_ROWS: usize = 50_000;

pub fn write_orgs(orgs: &[Node]) -> Result<Vec<u8>, AppError> {
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("组织架构").map_err(xerr)?;
    let bold = Format::new().set_bold();
    for (c, (_, header)) in ORG_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *header, &bold)
            .map_err(xerr)?;
    }
    for (c, width) in [14, 24, 12, 14, 10, 30, 10, 8].iter().enumerate() {
        ws.set_column_width(c as u16, *width).map_err(xerr)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    for (i, o) in orgs.iter().enumerate() {
        let r = (i + 1) as u32;
        // Codes are text: a 12-digit number would lose its meaning (and digits) in Excel.
        ws.write_string(r, 0, o.code.as_str()).map_err(xerr)?;
        ws.write_string(r, 1, &o.name).map_err(xerr)?;
        ws.write_string(r, 2, o.level.zh()).map_err(xerr)?;
        ws.write_string(r, 3, o.parent_code.as_deref().unwrap_or(""))
            .map_err(xerr)?;
        ws.write_string(r, 4, o.party_org_kind.zh()).map_err(xerr)?;
        ws.write_string(r, 5, &o.party_org_name).map_err(xerr)?;
        ws.write_string(r, 6, o.secretary_name.as_deref().unwrap_or(""))
            .map_err(xerr)?;
        ws.write_number(r, 7, o.member_count as f64).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Most cells a sheet read whole may hold, counted as its rows are laid out (a row is as wide as
/// its last cell): 50,000 rows of 40 columns.
pub const MAX_HELD_CELLS: usize = 2_000_000;

/// The first sheet of a workbook (`.xlsx`, `.xls`, `.ods`) or CSV file as text cells, folded as
/// typed (`sheet::fold`), dates as `YYYY-MM-DD`; `Err` when the file is not a workbook it can open
/// (a password-protected one included), or goes past `MAX_ROWS` rows, `stream::MAX_COLUMNS`
/// columns or `MAX_HELD_CELLS` cells — refused as the cells are met, before they are held.
pub fn read_first_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, Msg> {
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut held = 0usize;
    let mut over = false;
    stream::for_each_row(
        &stream::Source::Slice(bytes),
        MAX_ROWS,
        &mut |_| {},
        &mut |row, cells| {
            held += cells.len().max(1);
            if held > MAX_HELD_CELLS {
                over = true;
                return false;
            }
            // Rows without a cell stay in place, so row numbers are the sheet's own.
            table.resize(row - 1, Vec::new());
            table.push(cells);
            true
        },
    )?;
    if over {
        return Err(Msg::new("import.error.too_many_cells").arg("max", MAX_HELD_CELLS));
    }
    Ok(table)
}

/// Largest unpacked size of what a roster read holds besides its rows (shared strings, styles),
/// and of the worksheets of a sheet read whole (a roster of 50,000 rows unpacks to about 30 MB).
const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;

/// Largest unpacked size of what a sheet read holds in memory besides its rows (shared strings,
/// styles) when it takes at most `MAX_ROWS` rows.
const MAX_HELD_BYTES_SMALL: u64 = 32 * 1024 * 1024;

/// Largest unpacked worksheet a streamed read takes: it is read as it unpacks, never held (a
/// million-row roster's sheet unpacks to about 400 MB).
const MAX_STREAMED_SHEET_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Refuses a workbook whose entries unpack to more than they may (a decompression bomb) before
/// anything is unpacked: the worksheets, read as they unpack, up to `MAX_STREAMED_SHEET_BYTES`;
/// everything else (shared strings, styles: held in memory) up to `MAX_UNPACKED_BYTES` for a
/// roster of any size, `MAX_HELD_BYTES_SMALL` for a sheet of at most `MAX_ROWS` rows. A zip it
/// cannot read is not a workbook.
fn check_streamed_size(
    reader: impl std::io::Read + std::io::Seek,
    max_rows: usize,
) -> Result<(), Msg> {
    // A sheet of at most `MAX_ROWS` rows of `MAX_COLUMNS` cells unpacks to well under 256 MB.
    let (held, sheets) = if max_rows > MAX_ROWS {
        (MAX_UNPACKED_BYTES, MAX_STREAMED_SHEET_BYTES)
    } else {
        (MAX_HELD_BYTES_SMALL, MAX_UNPACKED_BYTES)
    };
    check_unpacked(reader, held, sheets)
}

fn check_unpacked(
    reader: impl std::io::Read + std::io::Seek,
    held_max: u64,
    sheets_max: u64,
) -> Result<(), Msg> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|_| Msg::new("import.error.not_xlsx"))?;
    check_zip_entries(&mut zip, held_max, sheets_max)
}

/// The declared sizes of a zip's entries against the limits (`check_unpacked`); the zip reader
/// refuses an entry that unpacks past its declared size, so the declaration binds.
fn check_zip_entries<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    held_max: u64,
    sheets_max: u64,
) -> Result<(), Msg> {
    let mut total: u64 = 0;
    let mut sheets: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| Msg::new("import.error.not_xlsx"))?;
        if held_max != sheets_max && entry.name().is_ok_and(|n| n.starts_with("xl/worksheets/")) {
            sheets = sheets.saturating_add(entry.size());
        } else {
            total = total.saturating_add(entry.size());
        }
        if sheets > sheets_max {
            return Err(
                Msg::new("import.error.unpacked_too_large").arg("max", sheets_max / (1024 * 1024))
            );
        }
        if total > held_max {
            return Err(
                Msg::new("import.error.unpacked_too_large").arg("max", held_max / (1024 * 1024))
            );
        }
    }
    Ok(())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => fold(s),
        // A date cell is a serial day number with a date format.
        Data::DateTime(dt) if dt.is_datetime() => {
            let day = dt.as_f64().floor() as i64;
            parse_loose_date(&day.to_string())
                .and_then(|d| d.full())
                .unwrap_or_else(|| dt.as_f64().to_string())
        }
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The tree sheet's rows as import rows: the header found wherever it is (title lines above it
/// skipped), columns by Chinese header or field name, row numbers the sheet's own.
pub fn org_rows(table: &[Vec<String>]) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    // Only the kind, name, secretary and count may be left out: they follow from the node.
    let at = map_columns(
        table,
        &ORG_COLUMNS,
        &[
            "party_org_kind",
            "party_org_name",
            "secretary_name",
            "member_count",
        ],
    )?;
    Ok(rows_below(table, &at)
        .into_iter()
        .map(|(row, c)| ImportRow {
            row,
            code: c[0].clone(),
            name: c[1].clone(),
            level: c[2].clone(),
            parent_code: c[3].clone(),
            party_org_kind: c[4].clone(),
            party_org_name: c[5].clone(),
            secretary_name: c[6].clone(),
            member_count: c[7].clone(),
        })
        .collect())
}

/// The Chinese header of a field, for reports.
pub fn header_of(field: &str) -> &'static str {
    ORG_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

/// An import form's upload: the file (written to disk as it arrived), the mode chosen, and
/// whether the user asked to see a preview before anything is written.
pub struct Upload {
    pub file: Option<upload::UploadedFile>,
    pub mode: baiqian_store::import::ImportMode,
    pub preview: bool,
}

/// Reads an import form: the `file` field (refused past `max_bytes`, the route's limit), the
/// `mode` choice (`good_rows` imports exactly the good rows; anything else rejects the whole
/// file on any bad row) and `step` (`preview`).
pub async fn read_upload(
    multipart: &mut axum::extract::Multipart,
    max_bytes: usize,
) -> Result<Upload, AppError> {
    use baiqian_store::import::ImportMode;
    let broken = upload_failed(max_bytes);
    let mut up = Upload {
        file: None,
        mode: ImportMode::AllOrNothing,
        preview: false,
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => up.file = Some(upload::UploadedFile::receive(field, max_bytes).await?),
            "mode" => {
                up.mode = match field.text().await.map_err(broken)?.as_str() {
                    "good_rows" => ImportMode::GoodRowsOnly,
                    _ => ImportMode::AllOrNothing,
                }
            }
            "step" => up.preview = field.text().await.map_err(broken)? == "preview",
            _ => {}
        }
    }
    Ok(up)
}

/// What a failed multipart read tells the user: the route's limit when the body was larger
/// (`max_bytes`, named in MB), else that the upload was incomplete.
pub fn upload_failed(
    max_bytes: usize,
) -> impl Fn(axum::extract::multipart::MultipartError) -> AppError + Copy {
    move |e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            file_too_large(max_bytes)
        } else {
            AppError::Invalid(Msg::new("import.error.upload"))
        }
    }
}

/// "The file is larger than N MB".
pub fn file_too_large(max_bytes: usize) -> AppError {
    AppError::Invalid(Msg::new("import.error.file_too_large").arg("max", max_bytes / (1024 * 1024)))
}

/// A workbook as a download named `filename`.
pub fn xlsx_response(bytes: Vec<u8>, filename: &str) -> Result<axum::response::Response, AppError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mime = HeaderValue::from_static(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// A cell of a generic sheet: text, a number Excel can sum, or a date (`YYYY-MM-DD`) Excel
/// reads as a date.
pub enum Cell {
    Text(String),
    Number(i64),
    Date(String),
}

/// Text that starts like a formula (`=`, `+`, `-`, `@`) is written with Excel's quote prefix, so
/// nobody's spreadsheet runs it.
fn looks_like_formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@'])
}

/// How wide a column shows its longest cell (a Chinese character counts two).
fn width_of(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 1 } else { 2 })
        .sum()
}

/// A list as exported: a title line (what, whose, who exported it and when), bold headers with
/// the header row frozen, widths that fit, numbers as numbers, dates as dates, formula-like text
/// inert. Reads back through `locate`.
pub fn write_list(
    sheet: &str,
    title: &str,
    columns: &[(&str, &str)],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, AppError> {
    let mut w = ListWriter::new(sheet, title, columns, false)?;
    for row in rows {
        w.row(row)?;
    }
    w.finish_to_buffer()
}

/// Writes a list row by row in the layout of [`write_list`]. In constant-memory mode each row
/// goes to a temporary file as soon as the next begins, so a province's roster takes no more
/// memory than one row (rust_xlsxwriter's `constant_memory`).
pub struct ListWriter {
    wb: Workbook,
    next_row: u32,
    widths: Vec<usize>,
    quoted: Format,
    date: Format,
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}

impl ListWriter {
    pub fn new(
        sheet: &str,
        title: &str,
        columns: &[(&str, &str)],
        constant_memory: bool,
    ) -> Result<Self, AppError> {
        let mut wb = Workbook::new();
        let ws = if constant_memory {
            wb.add_worksheet_with_constant_memory().map_err(xerr)?
        } else {
            wb.add_worksheet()
        };
        ws.set_name(sheet).map_err(xerr)?;
        let bold = Format::new().set_bold();
        ws.write_string_with_format(0, 0, title, &bold)
            .map_err(xerr)?;
        for (c, (_, header)) in columns.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, *header, &bold)
                .map_err(xerr)?;
        }
        ws.set_freeze_panes(2, 0).map_err(xerr)?;
        Ok(Self {
            wb,
            next_row: 2,
            widths: columns.iter().map(|(_, h)| width_of(h)).collect(),
            quoted: Format::new().set_quote_prefix(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        })
    }

    /// Rows written so far, the header lines not counted.
    pub fn rows(&self) -> u32 {
        self.next_row - 2
    }

    pub fn row(&mut self, row: &[Cell]) -> Result<(), AppError> {
        let r = self.next_row;
        let ws = self.wb.worksheet_from_index(0).map_err(xerr)?;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let shown = match cell {
                Cell::Text(s) if looks_like_formula(s) => {
                    ws.write_string_with_format(r, col, s, &self.quoted)
                        .map_err(xerr)?;
                    width_of(s)
                }
                Cell::Text(s) => {
                    ws.write_string(r, col, s).map_err(xerr)?;
                    width_of(s)
                }
                Cell::Number(n) => {
                    ws.write_number(r, col, *n as f64).map_err(xerr)?;
                    n.to_string().len()
                }
                Cell::Date(d) => {
                    match rust_xlsxwriter::ExcelDateTime::parse_from_str(d) {
                        Ok(when) => ws
                            .write_datetime_with_format(r, col, &when, &self.date)
                            .map_err(xerr)?,
                        Err(_) => ws.write_string(r, col, d).map_err(xerr)?,
                    };
                    10
                }
            };
            if let Some(w) = self.widths.get_mut(c) {
                *w = (*w).max(shown);
            }
        }
        self.next_row += 1;
        Ok(())
    }

    fn set_widths(&mut self) -> Result<(), AppError> {
        let ws = self.wb.worksheet_from_index(0).map_err(xerr)?;
        for (c, w) in self.widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).min(48.0))
                .map_err(xerr)?;
        }
        Ok(())
    }

    pub fn finish_to_buffer(mut self) -> Result<Vec<u8>, AppError> {
        self.set_widths()?;
        self.wb.save_to_buffer().map_err(xerr)
    }

    pub fn finish_to_file(mut self, path: &std::path::Path) -> Result<(), AppError> {
        self.set_widths()?;
        self.wb.save(path).map_err(xerr)
    }
}

/// A one-sheet workbook: bold Chinese headers, frozen header row, then the rows.
pub fn write_sheet(
    sheet: &str,
    columns: &[(&str, &str)],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, AppError> {
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xerr)?;
    let bold = Format::new().set_bold();
    for (c, (_, header)) in columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *header, &bold)
            .map_err(xerr)?;
        ws.set_column_width(c as u16, 16).map_err(xerr)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    for (i, row) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(s) | Cell::Date(s) => ws.write_string(r, c as u16, s).map_err(xerr)?,
                Cell::Number(n) => ws.write_number(r, c as u16, *n as f64).map_err(xerr)?,
            };
        }
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Finds the columns of a sheet laid out like the platform's own export (field and Chinese
/// header each), where any may be preceded by title lines: `locate` with no synonyms. The ones
/// not in `optional` must be there.
pub fn map_columns(
    table: &[Vec<String>],
    columns: &[(&'static str, &'static str)],
    optional: &[&str],
) -> Result<Located, Vec<ImportError>> {
    let columns: Vec<Column> = columns
        .iter()
        .map(|(field, header)| Column {
            field,
            header,
            synonyms: &[],
            required: !optional.contains(field),
        })
        .collect();
    locate(table, &columns)
}

/// The data rows under a header `map_columns` found (blank rows skipped, up to a totals row).
pub fn data_rows(table: &[Vec<String>], at: &Located) -> Vec<(usize, Vec<String>)> {
    rows_below(table, at)
}

/// A column an import looks for: its field (as errors name it), the header of the platform's
/// own template, the other words officials' sheets use for it, and whether it must be there.
pub struct Column {
    pub field: &'static str,
    pub header: &'static str,
    pub synonyms: &'static [&'static str],
    pub required: bool,
}

/// Where a sheet's header is and which column each field sits in.
pub struct Located {
    /// 0-based index of the header row.
    pub header_row: usize,
    pub idx: Vec<Option<usize>>,
}

/// How far down a header is looked for (title, unit and date lines above it).
const HEADER_SEARCH_ROWS: usize = 15;

/// Finds the header: among the first rows, the one where most columns are recognised (by their
/// header, field name or a synonym, spaces and punctuation ignored); title lines above it, merged
/// cells included, are skipped and columns nobody asked for ignored. Every required column
/// missing from that row is an error on it.
pub fn locate(table: &[Vec<String>], columns: &[Column]) -> Result<Located, Vec<ImportError>> {
    let keys: Vec<Vec<String>> = columns
        .iter()
        .map(|c| {
            let mut k = vec![header_key(c.header), header_key(c.field)];
            k.extend(c.synonyms.iter().map(|s| header_key(s)));
            k
        })
        .collect();
    let map_row = |row: &[String]| -> Vec<Option<usize>> {
        let cells: Vec<String> = row.iter().map(|h| header_key(h)).collect();
        keys.iter()
            .map(|k| cells.iter().position(|c| !c.is_empty() && k.contains(c)))
            .collect()
    };
    let best = table
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .enumerate()
        .map(|(i, row)| (i, map_row(row)))
        .max_by_key(|(i, idx)| (idx.iter().filter(|x| x.is_some()).count(), usize::MAX - i));
    if table.is_empty() {
        return Err(vec![ImportError {
            row: 1,
            column: columns.first().map(|c| c.field).unwrap_or("file"),
            msg: Msg::new("import.error.empty"),
        }]);
    }
    // No row names any column: the header is taken to be the first row, and what it lacks is
    // what the sheet lacks.
    let (header_row, idx) = best
        .filter(|(_, idx)| idx.iter().any(Option::is_some))
        .unwrap_or_else(|| (0, vec![None; columns.len()]));
    let missing: Vec<ImportError> = columns
        .iter()
        .zip(&idx)
        .filter(|(c, i)| c.required && i.is_none())
        .map(|(c, _)| ImportError {
            row: header_row + 1,
            column: c.field,
            msg: Msg::new("import.error.missing_column").arg("column", c.header),
        })
        .collect();
    if missing.is_empty() {
        Ok(Located { header_row, idx })
    } else {
        Err(missing)
    }
}

/// The data rows under a located header, with their sheet row numbers, each cell picked by
/// column (empty when the column is absent): blank rows skipped, stopping at a totals row.
pub fn rows_below(table: &[Vec<String>], at: &Located) -> Vec<(usize, Vec<String>)> {
    table
        .iter()
        .enumerate()
        .skip(at.header_row + 1)
        .take_while(|(_, row)| !is_total_row(row))
        .filter(|(_, row)| row.iter().any(|c| !c.is_empty()))
        .map(|(i, row)| {
            let cells = at
                .idx
                .iter()
                .map(|k| k.and_then(|k| row.get(k)).cloned().unwrap_or_default())
                .collect();
            (i + 1, cells)
        })
        .collect()
}

/// What an export says of itself in its title line: which list, whose, who took it and when.
pub fn export_title(
    tr: crate::i18n::Tr,
    what: &str,
    node_name: &str,
    me: &crate::auth::CurrentUser,
    now_ms: i64,
) -> String {
    tr.f(
        "export.title",
        &[
            ("node", node_name),
            ("what", tr.t(what)),
            ("user", &me.user.name),
            ("login", &me.user.login),
            (
                "when",
                &baiqian_domain::time::format(now_ms, " %Y-%m-%d %H:%M").unwrap_or_default(),
            ),
        ],
    )
}

/// One column of an import template: its header, an example value, whether it must be filled,
/// the translation key saying how it may be written, its fixed values (a drop-down) if any, and
/// the other header words the importer reads for it (listed when any column has some).
pub struct TemplateColumn<'a> {
    pub header: &'a str,
    pub example: String,
    pub required: bool,
    pub forms_key: String,
    pub list: Vec<&'a str>,
    pub also: &'a [&'a str],
}

/// An import's template: a title line, the headers, an example row, drop-down lists where a
/// column has fixed values, and a sheet saying how each column may be written.
pub fn write_template(
    tr: crate::i18n::Tr,
    sheet: &str,
    title: &str,
    columns: &[TemplateColumn<'_>],
) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::DataValidation;
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xerr)?;
    ws.write_string_with_format(0, 0, title, &bold)
        .map_err(xerr)?;
    for (c, col) in columns.iter().enumerate() {
        let c16 = c as u16;
        ws.write_string_with_format(1, c16, col.header, &bold)
            .map_err(xerr)?;
        ws.write_string(2, c16, &col.example).map_err(xerr)?;
        ws.set_column_width(
            c16,
            (width_of(col.header).max(width_of(&col.example)) as f64 + 2.0).min(40.0),
        )
        .map_err(xerr)?;
        if !col.list.is_empty() {
            let v = DataValidation::new()
                .allow_list_strings(&col.list)
                .map_err(xerr)?;
            ws.add_data_validation(2, c16, 5001, c16, &v)
                .map_err(xerr)?;
        }
    }
    ws.set_freeze_panes(2, 0).map_err(xerr)?;
    let help = wb.add_worksheet();
    help.set_name(tr.t("template.instructions")).map_err(xerr)?;
    let with_also = columns.iter().any(|c| !c.also.is_empty());
    let heads: &[&str] = if with_also {
        &[
            "template.col_column",
            "template.col_required",
            "template.col_forms",
            "template.col_also",
        ]
    } else {
        &[
            "template.col_column",
            "template.col_required",
            "template.col_forms",
        ]
    };
    for (c, key) in heads.iter().enumerate() {
        help.write_string_with_format(0, c as u16, tr.t(key), &bold)
            .map_err(xerr)?;
    }
    for (r, col) in columns.iter().enumerate() {
        let r = (r + 1) as u32;
        help.write_string(r, 0, col.header).map_err(xerr)?;
        let required = if col.required {
            "template.yes"
        } else {
            "template.no"
        };
        help.write_string(r, 1, tr.t(required)).map_err(xerr)?;
        help.write_string(r, 2, tr.t(&col.forms_key))
            .map_err(xerr)?;
        if with_also {
            help.write_string(r, 3, col.also.join("、")).map_err(xerr)?;
        }
    }
    help.write_string(columns.len() as u32 + 2, 0, tr.t("template.note"))
        .map_err(xerr)?;
    for (c, w) in [(0u16, 18.0), (1, 8.0), (2, 70.0), (3, 40.0)] {
        help.set_column_width(c, w).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// An import form's sheet, read as far as its rows: what every `locate`-based import starts
/// with.
pub enum SheetRows {
    Rows {
        mode: baiqian_store::import::ImportMode,
        rows: Vec<(usize, Vec<String>)>,
    },
    /// The file is missing or not a sheet: why, in both languages.
    Unreadable(String),
    /// A required column is not among the headers.
    Headers(Vec<ImportError>),
}

/// Reads an import form (`file`, `mode`) and its first sheet's rows under `columns`.
pub async fn sheet_rows(
    multipart: &mut axum::extract::Multipart,
    columns: &[Column],
) -> Result<SheetRows, AppError> {
    let Upload { file, mode, .. } = read_upload(multipart, crate::state::MAX_UPLOAD_BYTES).await?;
    let file = upload::bytes_of(&file).await?;
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        read_first_sheet(&file)
    };
    Ok(match table {
        Err(m) => SheetRows::Unreadable(format!(
            "{} / {}",
            crate::i18n::Tr::new(crate::i18n::Lang::Zh).msg(&m),
            crate::i18n::Tr::new(crate::i18n::Lang::En).msg(&m)
        )),
        Ok(table) => match locate(&table, columns) {
            Err(errors) => SheetRows::Headers(errors),
            Ok(at) => SheetRows::Rows {
                mode,
                rows: rows_below(&table, &at),
            },
        },
    })
}
