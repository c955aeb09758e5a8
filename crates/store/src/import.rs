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

/// The one organization of `orgs` a cell names, by code or by name: a name that fits none, or
/// more than one, is the cell's error (with the candidates, so the official can pick a code).
pub fn pick_org<'a>(
    orgs: &'a [crate::kernel::Org],
    cell: &str,
) -> Result<&'a crate::kernel::Org, Msg> {
    let name = cell.trim();
    let matches: Vec<&crate::kernel::Org> = orgs
        .iter()
        .filter(|o| o.code.as_str() == name || o.name == name)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Msg::new("import.error.org_unknown").arg("name", name)),
        many => Err(Msg::new("import.error.org_ambiguous")
            .arg("name", name)
            .arg(
                "candidates",
                many.iter()
                    .map(|o| format!("{} {}", o.code.as_str(), o.name))
                    .collect::<Vec<_>>()
                    .join("、"),
            )),
    }
}
