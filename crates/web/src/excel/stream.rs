//! Reading a sheet of any size row by row (流式读取): an `.xlsx` through calamine's cell reader,
//! never holding more than the rows above its header; a CSV record by record. `.xls` and `.ods`
//! (small by nature: an `.xls` sheet holds 65,536 rows) are read whole and handed out the same way.

use std::io::{Cursor, Read, Seek};
use std::path::PathBuf;

use baiqian_domain::Msg;
use baiqian_domain::sheet::{fold, is_total_row};
use baiqian_store::import::ImportError;
use calamine::{DataRef, Reader};

use super::{
    Column, HEADER_SEARCH_ROWS, Located, cell_text, check_streamed_size, check_unpacked_size,
    decode_csv, locate,
};

/// Most rows one streamed sheet may have: an Excel sheet's own limit.
pub const MAX_STREAM_ROWS: usize = 1_048_576;

/// Where an uploaded sheet is: in memory (a form's upload) or in a file (a job's).
#[derive(Clone)]
pub enum Source {
    Bytes(std::sync::Arc<Vec<u8>>),
    File(PathBuf),
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl Source {
    fn open(&self) -> Result<Box<dyn ReadSeek + '_>, Msg> {
        Ok(match self {
            Source::Bytes(b) => Box::new(Cursor::new(b.as_slice())),
            Source::File(p) => Box::new(std::io::BufReader::with_capacity(
                1 << 16,
                std::fs::File::open(p).map_err(|_| Msg::new("import.error.no_file"))?,
            )),
        })
    }

    fn head(&self) -> Result<Vec<u8>, Msg> {
        let mut r = self.open()?;
        let mut head = Vec::with_capacity(8);
        r.by_ref()
            .take(8)
            .read_to_end(&mut head)
            .map_err(|_| Msg::new("import.error.no_file"))?;
        Ok(head)
    }

    fn all(&self) -> Result<std::borrow::Cow<'_, [u8]>, Msg> {
        Ok(match self {
            Source::Bytes(b) => std::borrow::Cow::Borrowed(b.as_slice()),
            Source::File(p) => std::borrow::Cow::Owned(
                std::fs::read(p).map_err(|_| Msg::new("import.error.no_file"))?,
            ),
        })
    }
}

/// Streams the first sheet: `found` once with the number of rows the sheet declares (its last
/// row number), then `each` with every row that has a cell (sheet row number, cells as text),
/// until the sheet ends or `each` returns false. `Err` when the file is not a sheet it can read.
pub fn for_each_row(
    src: &Source,
    max_rows: usize,
    found: &mut dyn FnMut(usize),
    each: &mut dyn FnMut(usize, Vec<String>) -> bool,
) -> Result<(), Msg> {
    let head = src.head()?;
    if head.is_empty() {
        return Err(Msg::new("import.error.no_file"));
    }
    let too_many = || Msg::new("import.error.too_many_rows").arg("max", max_rows);
    if head.starts_with(b"PK\x03\x04") {
        check_streamed_size(src.open()?)?;
        if let Ok(mut wb) = calamine::Xlsx::new(src.open()?) {
            let Some(name) = wb.sheet_names().first().cloned() else {
                return Err(Msg::new("import.error.no_sheet"));
            };
            let mut cells = wb
                .worksheet_cells_reader(&name)
                .map_err(|_| Msg::new("import.error.no_sheet"))?;
            let declared = cells.dimensions().end.0 as usize + 1;
            if declared > max_rows + 1 {
                return Err(too_many());
            }
            found(declared);
            let mut row: Vec<String> = Vec::new();
            let mut at: Option<u32> = None;
            let mut count = 0usize;
            loop {
                let cell = cells
                    .next_cell()
                    .map_err(|_| Msg::new("import.error.not_xlsx"))?;
                let Some(cell) = cell else { break };
                let (r, c) = cell.get_position();
                if at != Some(r) {
                    if let Some(prev) = at {
                        count += 1;
                        if count > max_rows + 1 {
                            return Err(too_many());
                        }
                        if !each(prev as usize + 1, std::mem::take(&mut row)) {
                            return Ok(());
                        }
                    }
                    at = Some(r);
                }
                let c = c as usize;
                if c >= row.len() {
                    row.resize(c + 1, String::new());
                }
                row[c] = ref_text(cell.get_value());
            }
            if let Some(prev) = at {
                each(prev as usize + 1, row);
            }
            return Ok(());
        }
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // .ods, .xlsb and .xls: read whole, then handed out row by row.
        if head.starts_with(b"PK\x03\x04") {
            check_unpacked_size(src.open()?)?;
        }
        let bytes = src.all()?;
        let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.as_ref()))
            .map_err(|_| Msg::new("import.error.not_xlsx"))?;
        let range = match wb.worksheet_range_at(0) {
            Some(Ok(r)) => r,
            _ => return Err(Msg::new("import.error.no_sheet")),
        };
        if range.height() > max_rows + 1 {
            return Err(too_many());
        }
        let first = range.start().map(|(r, _)| r as usize).unwrap_or(0);
        found(first + range.height());
        for (i, r) in range.rows().enumerate() {
            let cells: Vec<String> = r.iter().map(cell_text).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if !each(first + i + 1, cells) {
                break;
            }
        }
        return Ok(());
    }
    let bytes = src.all()?;
    let text = decode_csv(&bytes)?;
    found(text.bytes().filter(|b| *b == b'\n').count().max(1));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut n = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => return Err(Msg::new("import.error.not_xlsx")),
        }
        n += 1;
        if n > max_rows + 1 {
            return Err(too_many());
        }
        if !each(n, record.iter().map(fold).collect()) {
            break;
        }
    }
    Ok(())
}

fn ref_text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) => fold(s),
        DataRef::SharedString(s) => fold(s),
        other => cell_text(&calamine::Data::from(other.clone())),
    }
}

/// What `for_each_located` hands out.
pub enum SheetItem<'a> {
    /// The header was found (its row's cells as the sheet has them).
    Header(&'a Located, &'a [String]),
    /// A data row: sheet row number, cells in the order of the columns asked for.
    Row(usize, Vec<String>),
}

type Each<'e> = dyn FnMut(SheetItem<'_>) -> bool + 'e;

/// A row under the header, picked by column; false once the list ends (a totals row) or
/// `each` says stop.
fn emit(at: &Located, row: usize, cells: Vec<String>, each: &mut Each<'_>) -> bool {
    if is_total_row(&cells) {
        return false;
    }
    if cells.iter().all(|c| c.is_empty()) {
        return true;
    }
    let picked = at
        .idx
        .iter()
        .map(|k| k.and_then(|k| cells.get(k)).cloned().unwrap_or_default())
        .collect();
    each(SheetItem::Row(row, picked))
}

/// Finds the header among the rows read so far and hands out those under it. `Ok(None)` when
/// `each` stopped (or the list ended) there.
fn settle(
    head: &mut Vec<Vec<String>>,
    columns: &[Column],
    each: &mut Each<'_>,
) -> Result<Option<Located>, Vec<ImportError>> {
    let found = locate(head, columns)?;
    let header = head.get(found.header_row).cloned().unwrap_or_default();
    if !each(SheetItem::Header(&found, &header)) {
        return Ok(None);
    }
    for (i, row) in std::mem::take(head)
        .into_iter()
        .enumerate()
        .skip(found.header_row + 1)
    {
        if !emit(&found, i + 1, row, each) {
            return Ok(None);
        }
    }
    Ok(Some(found))
}

/// Streams a sheet laid out as officials lay it out: the header looked for among the first rows
/// (title, unit and date lines above it skipped), then each data row with its cells picked by
/// column, blank rows skipped, stopping at a totals row. `Ok(Err(..))` when the header lacks a
/// required column; `Err` when the file cannot be read.
pub fn for_each_located(
    src: &Source,
    columns: &[Column],
    max_rows: usize,
    found: &mut dyn FnMut(usize),
    each: &mut Each<'_>,
) -> Result<Result<(), Vec<ImportError>>, Msg> {
    let mut head: Vec<Vec<String>> = Vec::new();
    let mut at: Option<Located> = None;
    let mut bad_header: Option<Vec<ImportError>> = None;
    let mut stopped = false;
    for_each_row(src, max_rows, found, &mut |row, cells| {
        if let Some(a) = &at {
            return emit(a, row, cells, each);
        }
        if row <= HEADER_SEARCH_ROWS {
            // Dense above the header, so `locate` counts rows as the sheet does.
            head.resize(row - 1, Vec::new());
            head.push(cells);
            return true;
        }
        match settle(&mut head, columns, each) {
            Ok(Some(a)) => {
                let go = emit(&a, row, cells, each);
                at = Some(a);
                go
            }
            Ok(None) => {
                stopped = true;
                false
            }
            Err(e) => {
                bad_header = Some(e);
                false
            }
        }
    })?;
    if at.is_none()
        && !stopped
        && bad_header.is_none()
        && let Err(e) = settle(&mut head, columns, each)
    {
        bad_header = Some(e);
    }
    Ok(match bad_header {
        Some(e) => Err(e),
        None => Ok(()),
    })
}
