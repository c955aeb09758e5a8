//! A translatable message: a key into the locale files plus named arguments.
//!
//! The domain never holds display text; it names what went wrong and the web layer renders it
//! in the reader's language (or in both, for import reports).

/// A message key with its arguments, e.g. `org.error.bad_code` with `{code}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Msg {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}
