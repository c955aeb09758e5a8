//! One builder for multi-row statements (`INSERT … VALUES (…), (…)` and `IN (…)` lists), so
//! every bulk path numbers its parameters the same way and keeps statements the same size.
//!
//! Why a size at all: sqlx binds each value by asking SQLite for the parameter's name, which
//! SQLite finds by a linear scan, so a statement's binding cost grows with the square of its
//! parameter count (measured with perf: 8,000-parameter statements spent 80 % of the time in
//! `sqlite3_bind_parameter_name`). Statements stay at a few hundred parameters.

/// The most parameters one statement carries.
pub(crate) const PARAMS_PER_STATEMENT: usize = 400;

/// The longest `IN (…)` list of one statement.
pub(crate) const IN_LIST: usize = 250;

/// How many rows of `width` parameters go in one statement.
pub(crate) fn rows_per_statement(width: usize) -> usize {
    (PARAMS_PER_STATEMENT / width.max(1)).max(1)
}

/// `rows` comma-separated copies of `row`, in which `?k` stands for the k-th parameter of that
/// row (1-based) and anything else — constants, `$n` of parameters shared by every row — is
/// copied as it is. The first row's `?1` is `$first`; each row takes `width` parameters.
///
/// `values("(?1, ?2, 'x', $1)", 2, 2, 2)` is `(\$2, \$3, 'x', \$1),(\$4, \$5, 'x', \$1)`.
pub(crate) fn values(row: &str, width: usize, rows: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * (row.len() + 8));
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        let base = first + r * width;
        let mut chars = row.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '?' {
                let mut k = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    k = k * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(base + k.saturating_sub(1)).to_string());
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// A row of `width` plain parameters: `(?1, ?2, …)`.
pub(crate) fn plain_row(width: usize) -> String {
    let cells: Vec<String> = (1..=width).map(|k| format!("?{k}")).collect();
    format!("({})", cells.join(", "))
}

/// `$start, $start+1, …` for an `IN (…)` list of `n` parameters.
pub(crate) fn list(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_number_their_parameters_after_the_shared_ones() {
        assert_eq!(
            values("(?1, ?2, 'x', $1)", 2, 2, 2),
            "($2, $3, 'x', $1),($4, $5, 'x', $1)"
        );
        assert_eq!(
            values("(?1, ?2, '', ?1)", 2, 2, 1),
            "($1, $2, '', $1),($3, $4, '', $3)"
        );
        assert_eq!(plain_row(3), "(?1, ?2, ?3)");
        assert_eq!(values(&plain_row(12), 12, 1, 1).matches('$').count(), 12);
        assert_eq!(list(3, 3), "$3, $4, $5");
        assert_eq!(rows_per_statement(13), 30);
    }
}

/// Rows of one table, `width` values each, written in statements of a few hundred values.
pub(crate) struct Rows {
    sql_head: String,
    row: String,
    width: usize,
    values: Vec<Value>,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    NullText,
    NullInt,
}

impl Rows {
    pub(crate) fn new(head: &str, width: usize) -> Self {
        Rows {
            sql_head: head.to_string(),
            row: plain_row(width),
            width,
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.width);
        self.values.extend(row);
    }

    pub(crate) async fn write(self, conn: &mut sqlx::AnyConnection) -> crate::Result<()> {
        let per = rows_per_statement(self.width);
        for chunk in self.values.chunks(per * self.width) {
            let n = chunk.len() / self.width;
            let sql = format!(
                "{} VALUES {}",
                self.sql_head,
                values(&self.row, self.width, n, 1)
            );
            let mut q = sqlx::query(&sql);
            for v in chunk {
                q = match v {
                    Value::Int(i) => q.bind(*i),
                    Value::Text(t) => q.bind(t.clone()),
                    Value::NullText => q.bind(None::<String>),
                    Value::NullInt => q.bind(None::<i64>),
                };
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

pub(crate) fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

pub(crate) fn opt(s: &Option<String>) -> Value {
    s.as_ref()
        .map_or(Value::NullText, |t| Value::Text(t.clone()))
}
