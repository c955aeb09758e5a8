//! What every form and import page shares: field errors shown beside their inputs, and an
//! import's problems reported by row and column in both languages.

use baiqian_store::import::ImportError;

use crate::excel;
use crate::i18n::{Lang, Tr};

/// A field error shown beside its input and in the summary at the top.
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The messages of one field, joined, for the space beside its input.
pub fn errors_of(errors: &[FieldError], field: &str) -> String {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("；")
}

/// One reported import problem, in both languages (the report goes to people who may forward it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReportRow {
    pub row: usize,
    pub column: String,
    pub zh: String,
    pub en: String,
}

/// The report rows of an import of the tree, naming columns by its sheet's headers.
pub fn report_rows(errors: &[ImportError]) -> Vec<ReportRow> {
    report_rows_with(errors, excel::header_of)
}

/// The report rows of an import, naming columns by `header` (the sheet's Chinese header).
pub fn report_rows_with(
    errors: &[ImportError],
    header: impl Fn(&str) -> &'static str,
) -> Vec<ReportRow> {
    let zh = Tr::new(Lang::Zh);
    let en = Tr::new(Lang::En);
    errors
        .iter()
        .map(|e| ReportRow {
            row: e.row,
            column: format!("{} ({})", header(e.column), e.column),
            zh: zh.msg(&e.msg),
            en: en.msg(&e.msg),
        })
        .collect()
}
