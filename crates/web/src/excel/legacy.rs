//! The older sheet formats checked before calamine reads them. calamine reads an `.xls` (every
//! sheet, at open) and an `.ods` sheet whole into a dense grid as wide and tall as the cells
//! furthest apart, and reserves what an `.xls` declares; a file of a few kilobytes can address a
//! cell a million rows down. These checks walk the file's records as a stream, in constant
//! memory, and refuse it before any grid is built when a cell lies past the bounds or the grid
//! would hold more than `MAX_GRID_CELLS`.

use std::io::{BufRead, BufReader, Read, Seek};

use baiqian_domain::Msg;
use quick_xml::events::{BytesStart, Event};

/// Most cells the grid of an `.xls` or `.ods` sheet may span (a roster of 50,000 members in 30
/// columns); larger sheets are taken as `.xlsx`, which is read cell by cell.
pub const MAX_GRID_CELLS: u64 = 1_500_000;

/// Largest unpacked `.ods` a read takes: its content is parsed twice, once here.
pub const MAX_ODS_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

fn not_sheet<E>(_: E) -> Msg {
    Msg::new("import.error.not_xlsx")
}

/// The furthest cells seen: refused as soon as one is past the bounds, and at the end when the
/// grid they span is too large.
struct Extent {
    max_rows: u64,
    max_cols: u64,
    rows: u64,
    cols: u64,
}

impl Extent {
    fn new(max_rows: usize, max_cols: usize) -> Extent {
        Extent {
            max_rows: max_rows as u64,
            max_cols: max_cols as u64,
            rows: 0,
            cols: 0,
        }
    }

    /// A cell spanning rows `..row_end` and columns `..col_end` (exclusive ends).
    fn reach(&mut self, row_end: u64, col_end: u64) -> Result<(), Msg> {
        if row_end > self.max_rows {
            return Err(Msg::new("import.error.too_many_rows").arg("max", self.max_rows));
        }
        if col_end > self.max_cols {
            return Err(Msg::new("import.error.too_many_columns").arg("max", self.max_cols));
        }
        self.rows = self.rows.max(row_end);
        self.cols = self.cols.max(col_end);
        if self.rows.saturating_mul(self.cols) > MAX_GRID_CELLS {
            return Err(Msg::new("import.error.legacy_too_large").arg("max", MAX_GRID_CELLS));
        }
        Ok(())
    }
}

fn attr_number(e: &BytesStart<'_>, name: &str) -> Result<Option<u64>, Msg> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(not_sheet)?;
        if a.key.as_ref() == name {
            return a.value.trim().parse().map(Some).map_err(not_sheet);
        }
    }
    Ok(None)
}

fn has_attr(e: &BytesStart<'_>, names: &[&str]) -> bool {
    e.attributes()
        .with_checks(false)
        .flatten()
        .any(|a| names.contains(&a.key.as_ref()))
}

/// Checks every table of an OpenDocument spreadsheet (`content.xml`): no cell with content
/// past `max_rows` × `max_cols`, no more row elements than `max_rows` (repeated empty rows
/// count once, as LibreOffice writes them), the grid within `MAX_GRID_CELLS`.
pub fn check_ods(reader: impl Read + Seek, max_rows: usize, max_cols: usize) -> Result<(), Msg> {
    let mut zip = zip::ZipArchive::new(reader).map_err(not_sheet)?;
    super::check_zip_entries(&mut zip, MAX_ODS_UNPACKED_BYTES, MAX_ODS_UNPACKED_BYTES)?;
    let content = zip.by_name("content.xml").map_err(not_sheet)?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut extent = Extent::new(max_rows, max_cols);
    // Where the reader is in the current table: the row and column of the next element, the
    // repeat of the current row, and the end of its last cell with content.
    let (mut row, mut col, mut repeat, mut last) = (0u64, 0u64, 1u64, 0u64);
    let mut row_elements = 0usize;
    loop {
        buf.clear();
        let (e, closed) = match xml.read_event_into(&mut buf).map_err(not_sheet)? {
            Event::Eof => break,
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.name().as_ref() == "table:table-row" {
                    end_row(&mut extent, &mut row, repeat, last)?;
                }
                continue;
            }
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" => (row, row_elements) = (0, 0),
            "table:table-row" => {
                row_elements += 1;
                if row_elements > max_rows {
                    return Err(Msg::new("import.error.too_many_rows").arg("max", max_rows));
                }
                repeat = attr_number(&e, "table:number-rows-repeated")?.unwrap_or(1);
                (col, last) = (0, 0);
                if closed {
                    end_row(&mut extent, &mut row, repeat, last)?;
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let span = attr_number(&e, "table:number-columns-repeated")?.unwrap_or(1);
                let filled = !closed || has_attr(&e, &["office:value-type", "table:formula"]);
                col = col.saturating_add(span);
                if filled {
                    last = col;
                    extent.reach(row.saturating_add(1), col)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn end_row(extent: &mut Extent, row: &mut u64, repeat: u64, last: u64) -> Result<(), Msg> {
    if last > 0 {
        extent.reach(row.saturating_add(repeat), last)?;
    }
    *row = row.saturating_add(repeat);
    Ok(())
}

/// BIFF records that hold one cell, its row and column first (BIFF5 and BIFF8).
const CELL_RECORDS: [u16; 8] = [
    0x0006, // formula
    0x00D6, // rich string
    0x00FD, // shared string
    0x0201, // blank
    0x0203, // number
    0x0204, // label
    0x0205, // boolean or error
    0x027E, // RK number
];

/// Checks an `.xls` workbook's records, every sheet (calamine reads them all when it opens the
/// file): each sheet's declared dimensions and each cell's place within the bounds, the grid
/// within `MAX_GRID_CELLS`. Read as a stream, record by record.
pub fn check_xls(reader: impl Read + Seek, max_rows: usize, max_cols: usize) -> Result<(), Msg> {
    let mut cf = cfb::CompoundFile::open(reader).map_err(not_sheet)?;
    // A password-protected .xlsx travels as an encrypted package in the same container.
    if cf.is_stream("/EncryptedPackage") {
        return Err(Msg::new("import.error.encrypted"));
    }
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| cf.is_stream(n))
        .ok_or_else(|| Msg::new("import.error.not_xlsx"))?;
    let stream = cf.open_stream(name).map_err(not_sheet)?;
    let mut r = BufReader::new(stream);
    let mut extent = Extent::new(max_rows, max_cols);
    let mut data = vec![0u8; usize::from(u16::MAX)];
    loop {
        if r.fill_buf().map_err(not_sheet)?.is_empty() {
            break;
        }
        // Writers pad the stream to their block size: a record cut short is its end.
        let mut head = [0u8; 4];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let kind = u16::from_le_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_le_bytes([head[2], head[3]]));
        let d = &mut data[..len];
        if r.read_exact(d).is_err() {
            break;
        }
        let u16_at = |i: usize| {
            d.get(i..i + 2)
                .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
        };
        let u32_at = |i: usize| {
            d.get(i..i + 4)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        };
        match kind {
            // Dimensions: first row, last row + 1, first column, last column + 1.
            0x0200 => {
                let (first_row, end_row, first_col, end_col) = match len {
                    10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
                    14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
                    _ => return Err(Msg::new("import.error.not_xlsx")),
                };
                let (Some(fr), Some(er), Some(fc), Some(ec)) =
                    (first_row, end_row, first_col, end_col)
                else {
                    return Err(Msg::new("import.error.not_xlsx"));
                };
                if fr > er || (fc > ec && fc <= 0xFF) {
                    return Err(Msg::new("import.error.not_xlsx"));
                }
                extent.reach(er, ec)?;
            }
            k if CELL_RECORDS.contains(&k) => {
                let (Some(row), Some(col)) = (u16_at(0), u16_at(2)) else {
                    return Err(Msg::new("import.error.not_xlsx"));
                };
                extent.reach(row + 1, col + 1)?;
            }
            // Several numbers or blanks in one row: the last column closes the record.
            0x00BD | 0x00BE => {
                let (Some(row), Some(last)) = (u16_at(0), len.checked_sub(2).and_then(u16_at))
                else {
                    return Err(Msg::new("import.error.not_xlsx"));
                };
                extent.reach(row + 1, last + 1)?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_excel_roster_passes_and_a_far_cell_does_not() {
        let roster: &[u8] = include_bytes!("../../tests/fixtures/roster.xls");
        assert_eq!(check_xls(std::io::Cursor::new(roster), 50_015, 100), Ok(()));
        assert_eq!(
            check_xls(std::io::Cursor::new(roster), 2, 100).map_err(|m| m.key),
            Err("import.error.too_many_rows")
        );
    }
}
