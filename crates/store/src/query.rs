//! Queries assembled at run time (optional filters, multi-row inserts) and the one keyset list.
//!
//! Why not `sqlx::QueryBuilder`: through the `Any` driver its `push_bind` writes `?`, which
//! PostgreSQL refuses; both engines accept `$n`. [`Sql`] has the same shape (`push`,
//! `push_bind`) and writes `$n`, so no call site counts placeholders by hand; SQLite is sent the
//! same text with `?` (see [`Sql::query`]).

use crate::Result;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use vouch_domain::Timestamp;

/// A value bound to a placeholder. The store only binds text and integers (times as their
/// fixed-width text, money as minor units, flags as 0/1).
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Text(Some(v.to_string()))
    }
}

/// SQL text with its bound values, placeholders numbered as they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
    /// Planned afresh for its values each time instead of prepared once and kept.
    one_off: bool,
}

impl Sql {
    pub(crate) fn new(init: &str) -> Self {
        Self {
            text: init.to_string(),
            values: Vec::new(),
            one_off: false,
        }
    }

    /// Has the statement planned for the values it is sent with, every time. PostgreSQL plans
    /// a kept statement once for any values after five runs; for a lookup of a growing table
    /// that plan can be the one chosen while the table was empty (a full scan, comparing each
    /// row with every value of an `IN` list): 100 ms per 500 emails after 20,000 rows.
    pub(crate) fn one_off(&mut self) -> &mut Self {
        self.one_off = true;
        self
    }

    /// Appends SQL text. Only ever pass text written in this crate, never a caller's value.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
        let placeholder = self.bind(value);
        self.text.push_str(&placeholder);
        self
    }

    /// Writes ` LIMIT {n}` with the number itself, not a placeholder. SQLite reads a bound
    /// `LIMIT` when it plans the statement, so each new binding throws the kept plan away and
    /// the statement is compiled again on its next step (`sqlite3ExprIsInteger` marks the
    /// parameter; a fifth of an API list's time went to recompiling its page query). A number
    /// written into the text is planned once per value: one statement per page size (1 to 100
    /// for the API), which sqlx keeps among its 100 per connection.
    pub(crate) fn push_limit(&mut self, n: i64) -> &mut Self {
        self.text.push_str(&format!(" LIMIT {n}"));
        self
    }

    /// Binds `value` and returns its placeholder without writing it, for a value the SQL
    /// names more than once (`name LIKE $1 OR code LIKE $1`).
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Appends `($1, $2, …)`, one placeholder per value, for `IN` lists. The caller makes sure
    /// the list is not empty (`IN ()` is not SQL).
    pub(crate) fn push_in<V: Into<Value>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_bind(value);
        }
        self.text.push(')');
        self
    }

    /// Appends `(v, v, …), (…)`: one parenthesised group per item, for multi-row inserts.
    pub(crate) fn push_rows<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut Row<'_>, T),
    ) -> &mut Self {
        for (i, item) in items.into_iter().enumerate() {
            self.text.push_str(if i == 0 { "(" } else { ", (" });
            let mut r = Row {
                sql: self,
                first: true,
            };
            row(&mut r, item);
            self.text.push(')');
        }
        self
    }

    /// The statement for `conn`'s engine. SQLite finds a numbered placeholder (`$7`) by a
    /// linear search of the statement's placeholder names, when it prepares the statement and
    /// again for every value bound, so a multi-row insert of thousands of values took time
    /// quadratic in their number (160 ms for 1,000 participants). Anonymous `?` placeholders are
    /// bound by position at no cost, so SQLite is sent those, each value repeated where its
    /// placeholder repeats.
    fn query(
        &self,
        conn: &AnyConnection,
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let (text, order) = if conn.backend_name() == "SQLite" {
            positional(&self.text)
        } else {
            (self.text.clone(), (0..self.values.len()).collect())
        };
        debug_assert!(
            order.iter().all(|i| *i < self.values.len()),
            "a placeholder without a value: {text}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text)).persistent(!self.one_off);
        for value in order.into_iter().filter_map(|i| self.values.get(i)) {
            query = match value {
                Value::Text(t) => query.bind(t.clone()),
                Value::Int(i) => query.bind(*i),
            };
        }
        query
    }

    pub(crate) async fn fetch_all(&self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>> {
        Ok(self.query(conn).fetch_all(conn).await?)
    }

    /// The one number a `SELECT COUNT(*) AS n …` finds (0 when it finds no row).
    pub(crate) async fn fetch_count(&self, conn: &mut AnyConnection) -> Result<i64> {
        let rows = self.fetch_all(conn).await?;
        match rows.first() {
            Some(row) => Ok(sqlx::Row::try_get::<i64, _>(row, "n")?),
            None => Ok(0),
        }
    }

    pub(crate) async fn execute(&self, conn: &mut AnyConnection) -> Result<u64> {
        Ok(self.query(conn).execute(conn).await?.rows_affected())
    }

    #[cfg(test)]
    fn text(&self) -> &str {
        &self.text
    }
}

/// `text` with each `$n` outside quotes replaced by `?`, and the index of the value each `?`
/// takes, in order. It knows `'…'` literals only (no `"…"` identifier or comment holds a `$`
/// in the store's SQL).
fn positional(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut order = Vec::new();
    let mut quoted = false;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\'' {
            // `''` inside a literal toggles twice: still inside.
            quoted = !quoted;
        } else if c == '$' && !quoted && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let mut n = 0_usize;
            while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                n = n * 10 + (d as usize - '0' as usize);
                chars.next();
            }
            debug_assert!(n > 0, "placeholders are numbered from $1");
            out.push('?');
            order.push(n.saturating_sub(1));
            continue;
        }
        out.push(c);
    }
    (out, order)
}

/// One parenthesised group of [`Sql::push_rows`]: each `bind` adds a comma-separated value.
pub(crate) struct Row<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl Row<'_> {
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
        self.sql.push_bind(value);
        self
    }

    /// A placeholder bound earlier (a value every row shares).
    pub(crate) fn placeholder(&mut self, placeholder: &str) -> &mut Self {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
        self.sql.text.push_str(placeholder);
        self
    }
}

/// A column a list may be sorted by: its name in addresses (`?sort=-email`) and the SQL it sorts
/// on, written in this crate (never caller text). The SQL names the listed table's own columns
/// and never yields NULL, so that the keyset comparison stays total.
#[derive(Debug, PartialEq, Eq)]
pub struct SortColumn {
    pub name: &'static str,
    pub(crate) expr: &'static str,
    /// Compared as a number (an amount, a count) rather than as text.
    pub(crate) numeric: bool,
}

impl SortColumn {
    pub(crate) const fn text(name: &'static str, expr: &'static str) -> Self {
        Self {
            name,
            expr,
            numeric: false,
        }
    }

    pub(crate) const fn number(name: &'static str, expr: &'static str) -> Self {
        Self {
            name,
            expr,
            numeric: true,
        }
    }
}

/// A money list's rows in one currency: how many, and their amounts summed (minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub currency: String,
    pub count: i64,
    pub amount: i64,
}

/// How a list is ordered: by one of its [`SortColumn`]s (ties broken by id, in the same
/// direction), or newest first when no column is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Order {
    pub column: Option<&'static SortColumn>,
    pub descending: bool,
}

impl Order {
    /// Newest first: the order every list has unless asked for another.
    pub const NEWEST: Order = Order {
        column: None,
        descending: true,
    };

    /// Reads `name` (ascending) or `-name` (descending) against a list's columns; an empty text
    /// is newest first. The error lists the names the list accepts.
    pub fn parse(columns: &'static [SortColumn], text: &str) -> std::result::Result<Order, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Order::NEWEST);
        }
        let (name, descending) = match text.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        columns
            .iter()
            .find(|c| c.name == name)
            .map(|column| Order {
                column: Some(column),
                descending,
            })
            .ok_or_else(|| {
                let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
                format!(
                    "must be one of {}, each optionally with a leading - for descending",
                    names.join(", ")
                )
            })
    }

    /// The `sort` parameter that asks for this order again (empty for newest first).
    pub fn param(&self) -> String {
        match self.column {
            None => String::new(),
            Some(c) if self.descending => format!("-{}", c.name),
            Some(c) => c.name.to_string(),
        }
    }
}

/// A keyset list over one table (or a `SELECT … FROM … JOIN …` whose rows carry a
/// time-sortable id), newest first unless [`NewestFirst::ordered`] says otherwise: `filter`
/// adds conditions, `page` adds the cursor and reads `limit + 1` rows so the caller can tell
/// whether another page follows.
pub(crate) struct NewestFirst {
    sql: Sql,
    id_column: &'static str,
    order: Order,
    /// The listed table, where a sorted page's cursor row is read.
    table: Option<&'static str>,
}

impl NewestFirst {
    /// `SELECT * FROM {table}`.
    pub(crate) fn table(table: &'static str) -> Self {
        let mut list = Self::select(&format!("SELECT * FROM {table}"), "id");
        list.table = Some(table);
        list
    }

    /// Any `SELECT … FROM …` without a `WHERE`; `id_column` is the key it pages on.
    pub(crate) fn select(select: &str, id_column: &'static str) -> Self {
        let mut sql = Sql::new(select);
        sql.push(" WHERE 1 = 1");
        Self {
            sql,
            id_column,
            order: Order::NEWEST,
            table: None,
        }
    }

    /// `AND {column} = value` when a value is given.
    pub(crate) fn eq(&mut self, column: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.sql.push(" AND ").push(column).push(" = ").push_bind(v);
        }
        self
    }

    /// How many rows the list holds in all: its filters, no page (a list's total).
    pub(crate) async fn count(&self, conn: &mut AnyConnection) -> Result<i64> {
        let counted = Sql {
            text: format!("SELECT COUNT(*) AS n FROM ({}) AS listed", self.sql.text),
            values: self.sql.values.clone(),
            one_off: false,
        };
        counted.fetch_count(conn).await
    }

    /// How many rows the list holds per currency, with the sum of `amount` (minor units) in
    /// each: a money list's totals, its filters and no page.
    pub(crate) async fn totals(&self, conn: &mut AnyConnection) -> Result<Vec<Total>> {
        let summed = Sql {
            text: format!(
                "SELECT currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS amount FROM ({}) AS listed GROUP BY currency ORDER BY currency",
                self.sql.text
            ),
            values: self.sql.values.clone(),
            one_off: false,
        };
        summed
            .fetch_all(conn)
            .await?
            .iter()
            .map(|row| {
                Ok(Total {
                    currency: sqlx::Row::try_get(row, "currency")?,
                    count: sqlx::Row::try_get(row, "n")?,
                    amount: sqlx::Row::try_get::<Option<i64>, _>(row, "amount")?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// A condition of the caller's own, prefixed with ` AND `; binds go through the returned
    /// [`Sql`].
    pub(crate) fn and(&mut self) -> &mut Sql {
        self.sql.push(" AND ")
    }

    /// Orders the page by a sort column instead of newest first. Only for single-table lists
    /// ([`NewestFirst::table`]): the cursor's key is read from that table.
    pub(crate) fn ordered(&mut self, order: Order) -> &mut Self {
        self.order = order;
        self
    }

    pub(crate) async fn page(
        &mut self,
        conn: &mut AnyConnection,
        starting_after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AnyRow>> {
        let Some(column) = self.order.column else {
            if let Some(after) = starting_after {
                self.sql
                    .push(" AND ")
                    .push(self.id_column)
                    .push(" < ")
                    .push_bind(after);
            }
            self.sql
                .push(" ORDER BY ")
                .push(self.id_column)
                .push(" DESC")
                .push_limit(limit.saturating_add(1));
            return self.sql.fetch_all(conn).await;
        };
        let (expr, id) = (column.expr, self.id_column);
        let (op, dir) = if self.order.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(after) = starting_after {
            // The cursor row is read from the table itself, not through the filters: a row that
            // has left them since the page was shown (a reward delivered from a list of earned
            // ones) still marks where the next page starts. Sorted lists are the console's,
            // whose readers may see every row. A cursor that names no row is refused.
            let Some(table) = self.table else {
                return Err(crate::StoreError::Invalid {
                    field: "sort".into(),
                    message: "this list has one order".into(),
                });
            };
            let mut key_sql = Sql::new(&format!("SELECT {expr} AS k FROM {table} WHERE id = "));
            key_sql.push_bind(after);
            let rows = key_sql.fetch_all(conn).await?;
            let Some(row) = rows.first() else {
                return Err(crate::StoreError::Invalid {
                    field: "starting_after".into(),
                    message: format!("{after} names no row"),
                });
            };
            let key = if column.numeric {
                Value::Int(Some(sqlx::Row::try_get::<i64, _>(row, "k")?))
            } else {
                Value::Text(Some(sqlx::Row::try_get::<String, _>(row, "k")?))
            };
            let k = self.sql.bind(key);
            let a = self.sql.bind(after);
            self.sql.push(&format!(
                " AND ({expr} {op} {k} OR ({expr} = {k} AND {id} {op} {a}))"
            ));
        }
        self.sql
            .push(&format!(" ORDER BY {expr} {dir}, {id} {dir}"))
            .push_limit(limit.saturating_add(1));
        self.sql.fetch_all(conn).await
    }
}

/// `rows` cut into runs whose lengths are powers of two up to `max` (itself one), longest
/// first (13 rows: 8, 4, 1). Statements are kept prepared per text, and a text per row count
/// would crowd out the others: in runs like these a multi-row insert has a text per bit.
pub(crate) fn power_of_two_runs<T>(mut rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let len = max.min(1 << rows.len().ilog2());
        let (run, rest) = rows.split_at(len);
        rows = rest;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_powers_of_two_that_cover_every_row_in_order() {
        const MAX: usize = 1024;
        for n in 0..5000usize {
            let rows: Vec<usize> = (0..n).collect();
            let runs: Vec<&[usize]> = power_of_two_runs(&rows, MAX).collect();
            assert!(
                runs.iter()
                    .all(|r| r.len().is_power_of_two() && r.len() <= MAX)
            );
            assert_eq!(runs.concat(), rows);
            // Below the cap, one run per bit of the count: the statement texts stay few.
            if n <= MAX {
                assert_eq!(runs.len(), n.count_ones() as usize);
            }
        }
    }

    #[test]
    fn placeholders_are_numbered_in_push_order() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.push_bind("x").push(" AND b = ").push_bind(2);
        let like = sql.bind("%y%");
        sql.push(&format!(" AND (c LIKE {like} OR d LIKE {like})"));
        assert_eq!(
            sql.text(),
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND (c LIKE $3 OR d LIKE $3)"
        );
    }

    #[test]
    fn sqlite_gets_positional_placeholders_in_the_order_they_appear() {
        let (text, order) = positional(
            "SELECT '$1', a FROM t WHERE b = $2 AND (c LIKE $10 OR d LIKE $10) AND e = 'it''s $3' AND f = $1",
        );
        assert_eq!(
            text,
            "SELECT '$1', a FROM t WHERE b = ? AND (c LIKE ? OR d LIKE ?) AND e = 'it''s $3' AND f = ?"
        );
        assert_eq!(order, vec![1, 9, 9, 0]);
    }

    #[test]
    fn rows_are_grouped_and_share_placeholders() {
        let mut sql = Sql::new("INSERT INTO t (a, b, c) VALUES ");
        let shared = sql.bind("w");
        sql.push_rows([1, 2], |row, n| {
            row.bind(n).placeholder(&shared).bind(None::<String>);
        });
        assert_eq!(
            sql.text(),
            "INSERT INTO t (a, b, c) VALUES ($2, $1, $3), ($4, $1, $5)"
        );
    }
}
