//! Small helpers for building the dynamic parts of list queries (filters, order, paging)
//! from validated, whitelisted input.

use model::list::ListQuery;

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause under construction, with `$n` placeholders numbered as they are added.
#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    pub(crate) args: Vec<Arg>,
}

impl Where {
    /// Binds `arg` and returns its placeholder, for a clause the caller writes.
    pub(crate) fn param(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// `column`, an item id, names an item of one of these sites (by slug): what a
    /// site-scoped account may read. No row at all when `sites` is empty.
    pub(crate) fn item_in_sites(&mut self, column: &str, sites: &[String]) {
        if sites.is_empty() {
            self.clauses.push("1 = 0".into());
            return;
        }
        let params: Vec<String> = sites.iter().map(|s| self.param(Arg::Text(s.clone()))).collect();
        self.clauses.push(format!(
            "{column} IN (SELECT si.id FROM config_items si JOIN sites ss ON ss.id = si.site_id WHERE ss.slug IN ({}))",
            params.join(", ")
        ));
    }

    /// `column = value`. `column` must come from code, never from input.
    pub(crate) fn eq(&mut self, column: &str, arg: Arg) {
        let p = self.param(arg);
        self.clauses.push(format!("{column} = {p}"));
    }

    /// `column <op> value`, with `op` from code (`>=`, `<`…).
    pub(crate) fn cmp(&mut self, column: &str, op: &str, arg: Arg) {
        let p = self.param(arg);
        self.clauses.push(format!("{column} {op} {p}"));
    }

    /// Case-insensitive substring match over any of `columns`.
    pub(crate) fn search(&mut self, columns: &[&str], text: &str) {
        let p = self.param(Arg::Text(like_pattern(text)));
        let ors: Vec<String> = columns.iter().map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'")).collect();
        self.clauses.push(format!("({})", ors.join(" OR ")));
    }

    /// Case-insensitive substring match of any of `texts` in `column`.
    pub(crate) fn search_any(&mut self, column: &str, texts: &[String]) {
        let ors: Vec<String> = texts
            .iter()
            .map(|t| {
                let p = self.param(Arg::Text(like_pattern(t)));
                format!("LOWER({column}) LIKE {p} ESCAPE '\\'")
            })
            .collect();
        self.clauses.push(format!("({})", ors.join(" OR ")));
    }

    /// Substring match on a column that already holds lower-case text.
    pub(crate) fn contains(&mut self, column: &str, text: &str) {
        let p = self.param(Arg::Text(like_pattern(text)));
        self.clauses.push(format!("{column} LIKE {p} ESCAPE '\\'"));
    }

    /// A raw clause with no arguments, from code.
    pub(crate) fn raw(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    /// `column IN (…)`; an empty set matches nothing.
    pub(crate) fn in_text(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            self.clauses.push("1 = 0".into());
            return;
        }
        let ps: Vec<String> = values.iter().map(|v| self.param(Arg::Text(v.clone()))).collect();
        self.clauses.push(format!("{column} IN ({})", ps.join(", ")));
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }
}

/// The words a full-text index sees in `text`: its runs of letters and digits, lower case.
/// Searches are built from these alone, so nothing a user types is query syntax.
pub(crate) fn search_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase)
}

/// `%text%` in lower case, with LIKE's wildcards in `text` escaped (`ESCAPE '\'`).
fn like_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// `ORDER BY … LIMIT … OFFSET …` for a validated query; `column_of` maps the list's sortable
/// field names to columns. A unique tiebreaker keeps pages stable.
pub(crate) fn order_page(q: &ListQuery, column_of: fn(&str) -> &'static str, tiebreak: &str) -> String {
    let dir = if q.sort.descending { "DESC" } else { "ASC" };
    format!(" ORDER BY {} {dir}, {tiebreak} {dir} LIMIT {} OFFSET {}", column_of(q.sort.field), q.limit, q.offset)
}

/// Binds every argument of a [`Where`] to a query, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                $crate::sql::Arg::Text(s) => q.bind(s.clone()),
                $crate::sql::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_args;

/// How a column of a bound JSON array of rows is read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Json {
    Int,
    Text,
    Bool,
}

/// `SELECT <columns> FROM <rows of $1> WHERE true` for a batch bound as one JSON array of
/// arrays (each row's values in `types`' order): one statement and one bound parameter however
/// many rows, because SQLite finds a parameter by a linear scan of their names and many
/// parameters cost more than the rows. `WHERE true` lets an `ON CONFLICT` follow on SQLite.
pub(crate) fn json_rows(postgres: bool, types: &[Json]) -> String {
    let columns: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| match (postgres, t) {
            (false, _) => format!("j.value->>{i}"),
            (true, Json::Int) => format!("(j->>{i})::bigint"),
            (true, Json::Text) => format!("j->>{i}"),
            (true, Json::Bool) => format!("(j->>{i})::boolean"),
        })
        .collect();
    // jsonb_each hands each row over as JSONB, so `->>` reads its fields without parsing the
    // row's text again for every column (json_each gives text, parsed once per column).
    let source = if postgres { "jsonb_array_elements($1::jsonb) j" } else { "jsonb_each($1) j" };
    format!("SELECT {} FROM {source} WHERE true", columns.join(", "))
}
