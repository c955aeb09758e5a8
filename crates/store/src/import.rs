//! What every import shares (导入): the mode the user chose, a bad cell reported by row and
//! column, and the outcome. Each area parses its own rows; the web layer reports them all the
//! same way, in both languages.

use baiqian_domain::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Any bad row rejects the whole file.
    AllOrNothing,
    /// Import exactly the good rows; rows that depend on a bad row are bad too.
    GoodRowsOnly,
}

/// A bad cell: row number, column (the field name), and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportError {
    pub row: usize,
    pub column: &'static str,
    pub msg: Msg,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<ImportError>,
    /// Whether anything was written (false when the file was rejected).
    pub committed: bool,
}
