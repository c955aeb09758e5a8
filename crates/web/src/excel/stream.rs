//! Reading a sheet of any size row by row (流式读取): an `.xlsx` through calamine's cell reader,
//! never holding more than the rows above its header; a CSV record by record. `.xls` and `.ods`
//! (small by nature: an `.xls` sheet holds 65,536 rows) are read whole and handed out the same way.

use std::io::{Cursor, Read, Seek};
use std::sync::Arc;

use baiqian_domain::Msg;
use baiqian_domain::sheet::{fold, is_total_row};
use baiqian_store::import::ImportError;
use calamine::{DataRef, Reader};

use super::{Column, HEADER_SEARCH_ROWS, Located, cell_text, check_streamed_size, locate};

/// Most rows one streamed sheet may have: an Excel sheet's own limit.
pub const MAX_STREAM_ROWS: usize = 1_048_576;

/// Most columns any imported sheet may use: the widest ledger officials keep (a roster) has
/// fewer than 40. A cell further right is refused before a row is widened to hold it.
pub const MAX_COLUMNS: usize = 100;

/// Where an uploaded sheet is: in memory, or in an upload's temporary file.
#[derive(Clone)]
pub enum Source<'a> {
    Slice(&'a [u8]),
    File(Arc<tempfile::TempPath>),
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl Source<'_> {
    fn open(&self) -> Result<Box<dyn ReadSeek + '_>, Msg> {
        Ok(match self {
            Source::Slice(b) => Box::new(Cursor::new(*b)),
            Source::File(p) => Box::new(std::io::BufReader::with_capacity(
                1 << 16,
                std::fs::File::open(p.as_ref() as &std::path::Path)
                    .map_err(|_| Msg::new("import.error.no_file"))?,
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
    // A CSV is read twice as a stream: once to check its records and find its encoding, then
    // decoded to UTF-8 as it is parsed.
    let scan = scan_csv(src.open()?, max_rows)?;
    found(scan.lines.max(1));
    let encoding = if scan.utf8 {
        encoding_rs::UTF_8
    } else {
        encoding_rs::GB18030
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Decoded::new(src.open()?, encoding));
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

/// What a first pass over a CSV file found.
struct CsvScan {
    /// Line ends, for progress.
    lines: usize,
    /// The whole file is UTF-8 (else it is read as GB 18030, as Excel in China saves CSV).
    utf8: bool,
}

/// Checks a CSV file's records before any is parsed, reading it in 64 KB chunks: none longer
/// than `MAX_CSV_RECORD_BYTES`, none with more than `MAX_COLUMNS` fields, at most `max_rows`
/// (and the title lines), no NUL byte. Works on the raw bytes: quotes, commas, line ends and
/// NUL never occur inside a GB 18030 or UTF-8 character.
fn scan_csv(mut r: impl Read, max_rows: usize) -> Result<CsvScan, Msg> {
    let (mut quoted, mut len, mut fields, mut records) = (false, 0usize, 1usize, 1usize);
    let mut scan = CsvScan {
        lines: 0,
        utf8: true,
    };
    // The bytes of a UTF-8 character cut by the chunk's end.
    let mut cut: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(Msg::new("import.error.no_file")),
        };
        let chunk = &buf[..n];
        if scan.utf8 {
            scan.utf8 = utf8_so_far(&mut cut, chunk);
        }
        for &b in chunk {
            len += 1;
            match b {
                0 => return Err(Msg::new("import.error.not_xlsx")),
                b'"' => quoted = !quoted,
                b',' if !quoted => fields += 1,
                b'\n' => {
                    scan.lines += 1;
                    if !quoted {
                        records += 1;
                        (len, fields) = (0, 1);
                    }
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
    }
    scan.utf8 &= cut.is_empty();
    Ok(scan)
}

/// Whether `chunk`, after the `cut` bytes the last chunk ended with, is still UTF-8; keeps in
/// `cut` the start of a character this chunk ends inside.
fn utf8_so_far(cut: &mut Vec<u8>, chunk: &[u8]) -> bool {
    let joined;
    let data = if cut.is_empty() {
        chunk
    } else {
        joined = [std::mem::take(cut).as_slice(), chunk].concat();
        joined.as_slice()
    };
    match std::str::from_utf8(data) {
        Ok(_) => true,
        Err(e) if e.error_len().is_none() => {
            cut.extend_from_slice(&data[e.valid_up_to()..]);
            true
        }
        Err(_) => false,
    }
}

/// A file's bytes decoded to UTF-8 as they are read (a byte-order mark dropped); a byte that is
/// not of the encoding is an `InvalidData` error.
struct Decoded<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    ended: bool,
}

impl<R: Read> Decoded<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Decoded<R> {
        Decoded {
            inner,
            decoder: encoding.new_decoder(),
            input: vec![0u8; 1 << 16],
            out: Vec::new(),
            at: 0,
            ended: false,
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.ended {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            self.ended = n == 0;
            let room = self
                .decoder
                .max_utf8_buffer_length_without_replacement(n)
                .ok_or_else(|| std::io::Error::other("decoder buffer"))?;
            self.out.resize(room, 0);
            let (result, _, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[..n],
                &mut self.out,
                self.ended,
            );
            if let encoding_rs::DecoderResult::Malformed(..) = result {
                return Err(std::io::Error::from(std::io::ErrorKind::InvalidData));
            }
            self.out.truncate(written);
            self.at = 0;
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Msg> {
        let mut out = Vec::new();
        for_each_row(&Source::Slice(bytes), 1000, &mut |_| {}, &mut |_, cells| {
            out.push(cells);
            true
        })?;
        Ok(out)
    }

    #[test]
    fn a_gb18030_csv_is_decoded_as_it_is_read() {
        let text = "姓名,支部\n张逸灵,缫舍村党支部\n";
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the test file is not UTF-8"
        );
        assert_eq!(
            rows(&bytes).unwrap_or_default(),
            vec![vec!["姓名", "支部"], vec!["张逸灵", "缫舍村党支部"]]
        );
    }

    #[test]
    fn a_utf8_csv_loses_its_byte_order_mark_and_keeps_characters_cut_by_a_chunk() {
        // After the mark, 655 lines of 100 bytes end at byte 65,503; 32 more put a three-byte
        // character on the first 64 KB chunk's end (bytes 65,535 to 65,537).
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        for _ in 0..655 {
            bytes.extend(std::iter::repeat_n(b'a', 99));
            bytes.push(b'\n');
        }
        bytes.extend(std::iter::repeat_n(b'b', 32));
        bytes.extend("村,x\n".as_bytes());
        assert_eq!(bytes.len() - "村,x\n".len() + 3, (1 << 16) + 2);
        let read = rows(&bytes).unwrap_or_default();
        assert_eq!(read.len(), 656);
        assert_eq!(read[0][0], "a".repeat(99), "no mark left");
        assert_eq!(read[655], vec![format!("{}村", "b".repeat(32)), "x".into()]);
    }

    #[test]
    fn a_csv_with_a_nul_or_bytes_of_no_encoding_is_refused() {
        assert!(rows(b"a,b\n\0,c\n").is_err());
        // 0xFF never occurs in GB 18030 (nor in UTF-8).
        assert!(rows(b"a,b\n\xFF\xFF,c\n").is_err());
    }

    #[test]
    fn a_csv_record_too_long_or_too_wide_is_refused_before_parsing() {
        let long = vec![b'a'; MAX_CSV_RECORD_BYTES + 1];
        let m = rows(&long).err().map(|m| m.key);
        assert_eq!(m, Some("import.error.record_too_long"));
        let wide = vec![b','; MAX_COLUMNS + 1];
        let m = rows(&wide).err().map(|m| m.key);
        assert_eq!(m, Some("import.error.too_many_columns"));
    }
}
