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
    Column, HEADER_SEARCH_ROWS, Located, cell_text, check_streamed_size, decode_csv, locate,
};

/// Most rows one streamed sheet may have: an Excel sheet's own limit.
pub const MAX_STREAM_ROWS: usize = 1_048_576;

/// Most columns any imported sheet may use: the widest ledger officials keep (a roster) has
/// fewer than 40. A cell further right is refused before a row is widened to hold it.
pub const MAX_COLUMNS: usize = 100;

/// Where an uploaded sheet is: in memory (a form's upload, owned or borrowed) or in a file
/// (a job's).
#[derive(Clone)]
pub enum Source<'a> {
    Bytes(std::sync::Arc<Vec<u8>>),
    Slice(&'a [u8]),
    File(PathBuf),
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl Source<'_> {
    fn open(&self) -> Result<Box<dyn ReadSeek + '_>, Msg> {
        Ok(match self {
            Source::Bytes(b) => Box::new(Cursor::new(b.as_slice())),
            Source::Slice(b) => Box::new(Cursor::new(*b)),
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
            Source::Slice(b) => std::borrow::Cow::Borrowed(*b),
            Source::File(p) => std::borrow::Cow::Owned(
                std::fs::read(p).map_err(|_| Msg::new("import.error.no_file"))?,
            ),
        })
    }
}

/// The bounds a sheet is read within: a cell below `rows` data rows (title lines allowed above
/// them) or right of `MAX_COLUMNS` is refused when it is met, so what a file costs follows the
/// cells it holds, never the extent it declares or addresses (one cell at `XFD1048576` is a
/// 5 KB file).
struct Bounds {
    rows: usize,
}

impl Bounds {
    fn check(&self, row: usize, col: usize) -> Result<(), Msg> {
        if row > self.rows + HEADER_SEARCH_ROWS {
            return Err(Msg::new("import.error.too_many_rows").arg("max", self.rows));
        }
        if col >= MAX_COLUMNS {
            return Err(Msg::new("import.error.too_many_columns").arg("max", MAX_COLUMNS));
        }
        Ok(())
    }
}

/// Streams the first sheet: `found` once with the number of rows the sheet declares (its last
/// row number, at most the bound), then `each` with every row that has a cell (sheet row number,
/// cells as text), until the sheet ends or `each` returns false. `Err` when the file is not a
/// sheet it can read, or reaches past `max_rows` rows or `MAX_COLUMNS` columns.
pub fn for_each_row(
    src: &Source<'_>,
    max_rows: usize,
    found: &mut dyn FnMut(usize),
    each: &mut dyn FnMut(usize, Vec<String>) -> bool,
) -> Result<(), Msg> {
    let head = src.head()?;
    if head.is_empty() {
        return Err(Msg::new("import.error.no_file"));
    }
    let bounds = Bounds { rows: max_rows };
    if head.starts_with(b"PK\x03\x04") {
        check_streamed_size(src.open()?, max_rows)?;
        if let Ok(mut wb) = calamine::Xlsx::new(src.open()?) {
            return xlsx_rows(&mut wb, &bounds, found, each);
        }
        // Not an .xlsx: an OpenDocument sheet is read whole once its extent is known to be small.
        super::legacy::check_ods(src.open()?, max_rows + HEADER_SEARCH_ROWS, MAX_COLUMNS)?;
        let wb = calamine::Ods::new(src.open()?).map_err(|_| Msg::new("import.error.not_xlsx"))?;
        return range_rows(wb, &bounds, found, each);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // .xls: calamine reads every sheet whole when it opens the file, so the file's records
        // are checked first.
        super::legacy::check_xls(src.open()?, max_rows + HEADER_SEARCH_ROWS, MAX_COLUMNS)?;
        let wb = calamine::Xls::new(src.open()?).map_err(|_| Msg::new("import.error.not_xlsx"))?;
        return range_rows(wb, &bounds, found, each);
    }
    let bytes = src.all()?;
    check_csv(&bytes, max_rows)?;
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
        bounds.check(n, record.len().saturating_sub(1))?;
        if !each(n, record.iter().map(fold).collect()) {
            break;
        }
    }
    Ok(())
}

/// An `.xlsx` sheet cell by cell: empty (styled only) cells are skipped, every other cell's
/// place is checked before its row is widened.
fn xlsx_rows<R: Read + Seek>(
    wb: &mut calamine::Xlsx<R>,
    bounds: &Bounds,
    found: &mut dyn FnMut(usize),
    each: &mut dyn FnMut(usize, Vec<String>) -> bool,
) -> Result<(), Msg> {
    let Some(name) = wb.sheet_names().first().cloned() else {
        return Err(Msg::new("import.error.no_sheet"));
    };
    let mut cells = wb
        .worksheet_cells_reader(&name)
        .map_err(|_| Msg::new("import.error.no_sheet"))?;
    // The declared extent is only a hint for progress: many writers overstate it.
    let declared = cells.dimensions().end.0 as usize + 1;
    found(declared.min(bounds.rows + HEADER_SEARCH_ROWS));
    let mut row: Vec<String> = Vec::new();
    let mut at: Option<u32> = None;
    loop {
        let cell = cells
            .next_cell()
            .map_err(|_| Msg::new("import.error.not_xlsx"))?;
        let Some(cell) = cell else { break };
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        bounds.check(r as usize + 1, c as usize)?;
        if at != Some(r) {
            if let Some(prev) = at
                && !each(prev as usize + 1, std::mem::take(&mut row))
            {
                return Ok(());
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
    Ok(())
}

/// A sheet calamine reads whole (`.xls`, `.ods`), its extent already checked, handed out row by
/// row.
fn range_rows<R: Reader<RS>, RS: Read + Seek>(
    mut wb: R,
    bounds: &Bounds,
    found: &mut dyn FnMut(usize),
    each: &mut dyn FnMut(usize, Vec<String>) -> bool,
) -> Result<(), Msg> {
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        _ => return Err(Msg::new("import.error.no_sheet")),
    };
    let (first, left) = range
        .start()
        .map(|(r, c)| (r as usize, c as usize))
        .unwrap_or((0, 0));
    bounds.check(
        first + range.height(),
        left + range.width().saturating_sub(1),
    )?;
    found(first + range.height());
    for (i, r) in range.rows().enumerate() {
        let mut cells: Vec<String> = vec![String::new(); left];
        cells.extend(r.iter().map(cell_text));
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if !each(first + i + 1, cells) {
            break;
        }
    }
    Ok(())
}

/// Longest CSV record taken (a roster line is a few hundred bytes).
const MAX_CSV_RECORD_BYTES: usize = 64 * 1024;

/// Checks a CSV file's records before any is parsed: none longer than `MAX_CSV_RECORD_BYTES`,
/// none with more than `MAX_COLUMNS` fields, at most `max_rows` (and the title lines). Works on
/// the raw bytes: quotes, commas and line ends never occur inside a GB 18030 character.
fn check_csv(bytes: &[u8], max_rows: usize) -> Result<(), Msg> {
    let (mut quoted, mut len, mut fields, mut records) = (false, 0usize, 1usize, 1usize);
    for &b in bytes {
        len += 1;
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => fields += 1,
            b'\n' if !quoted => {
                records += 1;
                (len, fields) = (0, 1);
            }
            _ => {}
        }
        if len > MAX_CSV_RECORD_BYTES {
            return Err(Msg::new("import.error.record_too_long")
                .arg("row", records)
                .arg("max", MAX_CSV_RECORD_BYTES / 1024));
        }
        if fields > MAX_COLUMNS {
            return Err(Msg::new("import.error.too_many_columns").arg("max", MAX_COLUMNS));
        }
        if records > max_rows + HEADER_SEARCH_ROWS + 1 {
            return Err(Msg::new("import.error.too_many_rows").arg("max", max_rows));
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
    src: &Source<'_>,
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
