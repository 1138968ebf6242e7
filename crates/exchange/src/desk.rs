//! Incidents and problems from another desk, pure: CSV exports of ServiceNow's incident and
//! problem tables and of Jira Service Management's issue navigator read through a field
//! mapping (a preset per source and kind, each column overridable) into records ready to
//! import — every row's mistakes named by row and field, all of them at once, so a dry run is
//! an error report.

use crate::ImportError;
use std::collections::HashMap;

/// Where an export comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    ServiceNow,
    Jsm,
}

impl Source {
    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "servicenow" => Some(Source::ServiceNow),
            "jsm" | "jira" => Some(Source::Jsm),
            _ => None,
        }
    }
}

/// The fields an incident import fills, each read from a column.
pub const FIELDS: [&str; 17] = [
    "source_ref",
    "short_description",
    "description",
    "caller",
    "category",
    "subcategory",
    "item",
    "priority",
    "state",
    "assignment_group",
    "assignee",
    "resolution_code",
    "resolution_notes",
    "opened_at",
    "resolved_at",
    "closed_at",
    "problem",
];

/// The fields a problem import fills.
pub const PROBLEM_FIELDS: [&str; 11] = [
    "source_ref",
    "short_description",
    "symptom",
    "root_cause",
    "workaround",
    "fix",
    "state",
    "close_code",
    "opened_by",
    "opened_at",
    "incidents",
];

/// Which column each field comes from; a column name the export lacks leaves the field empty
/// (or, for a required one, is an error).
#[derive(Debug, Clone)]
pub struct Mapping {
    pub columns: HashMap<String, String>,
    /// The fields it may map.
    pub fields: &'static [&'static str],
}

impl Mapping {
    /// The columns a default problem export of `source` has. Problems link to the incidents
    /// they explain: JSM exports the links as columns; ServiceNow keeps the link on the
    /// incident (`problem_id`, read by the incident import), so import problems first.
    pub fn problem_preset(source: Source) -> Mapping {
        let pairs: &[(&str, &str)] = match source {
            Source::ServiceNow => &[
                ("source_ref", "number"),
                ("short_description", "short_description"),
                ("symptom", "description"),
                ("root_cause", "cause_notes"),
                ("workaround", "workaround"),
                ("fix", "fix_notes"),
                ("state", "state"),
                ("close_code", "resolution_code"),
                ("opened_by", "opened_by"),
                ("opened_at", "opened_at"),
                ("incidents", "related_incidents"),
            ],
            Source::Jsm => &[
                ("source_ref", "Issue key"),
                ("short_description", "Summary"),
                ("symptom", "Description"),
                ("root_cause", "Root cause"),
                ("workaround", "Workaround"),
                ("fix", "Resolution notes"),
                ("state", "Status"),
                ("close_code", "Resolution"),
                ("opened_by", "Reporter"),
                ("opened_at", "Created"),
                ("incidents", "Outward issue link (Problem/Incident)"),
            ],
        };
        Mapping {
            columns: pairs.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect(),
            fields: &PROBLEM_FIELDS,
        }
    }

    /// The columns a default incident export of `source` has.
    pub fn preset(source: Source) -> Mapping {
        let pairs: &[(&str, &str)] = match source {
            Source::ServiceNow => &[
                ("source_ref", "number"),
                ("short_description", "short_description"),
                ("description", "description"),
                ("caller", "caller_id"),
                ("category", "category"),
                ("subcategory", "subcategory"),
                ("item", "cmdb_ci"),
                ("priority", "priority"),
                ("state", "state"),
                ("assignment_group", "assignment_group"),
                ("assignee", "assigned_to"),
                ("resolution_code", "close_code"),
                ("resolution_notes", "close_notes"),
                ("opened_at", "opened_at"),
                ("resolved_at", "resolved_at"),
                ("closed_at", "closed_at"),
                ("problem", "problem_id"),
            ],
            Source::Jsm => &[
                ("source_ref", "Issue key"),
                ("short_description", "Summary"),
                ("description", "Description"),
                ("caller", "Reporter"),
                ("category", "Request Type"),
                ("subcategory", "Component/s"),
                ("item", "Affected services"),
                ("priority", "Priority"),
                ("state", "Status"),
                ("assignment_group", "Team"),
                ("assignee", "Assignee"),
                ("resolution_code", "Resolution"),
                ("resolution_notes", "Resolution notes"),
                ("opened_at", "Created"),
                ("resolved_at", "Resolved"),
                ("closed_at", "Closed"),
                ("problem", "Inward issue link (Problem/Incident)"),
            ],
        };
        Mapping { columns: pairs.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect(), fields: &FIELDS }
    }

    /// The preset with some fields read from other columns (`field=column`, one a line, as
    /// a mapping file or `--map` gives them); unknown fields are errors.
    pub fn with_overrides(mut self, overrides: &[(String, String)]) -> Result<Mapping, String> {
        for (field, column) in overrides {
            if !self.fields.contains(&field.as_str()) {
                return Err(format!(
                    "`{field}` is not a field this import fills; the fields: {}",
                    self.fields.join(", ")
                ));
            }
            self.columns.insert(field.clone(), column.clone());
        }
        Ok(self)
    }
}

/// One incident as the export has it, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// 1-based data row (the header is row 0), for error reports.
    pub row: usize,
    pub source_ref: String,
    pub short_description: String,
    pub description: String,
    pub caller: String,
    pub category: String,
    pub subcategory: String,
    pub item: Option<String>,
    pub priority: u8,
    /// Watchkeeper's state: new, in-progress, on-hold, resolved, closed, cancelled.
    pub state: String,
    pub assignment_group: String,
    pub assignee: Option<String>,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The problem it was linked to there (its number or key).
    pub problem: Option<String>,
}

/// One problem as the export has it, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemRecord {
    pub row: usize,
    pub source_ref: String,
    pub short_description: String,
    pub symptom: String,
    pub root_cause: String,
    pub workaround: String,
    pub fix: String,
    /// Watchkeeper's: new, assess, root-cause-analysis, fix-in-progress, resolved, closed.
    pub state: String,
    /// Watchkeeper's close code, for a closed problem.
    pub close_code: String,
    /// The export said none for a closed problem; `fix-applied` was assumed.
    pub close_code_assumed: bool,
    pub opened_by: String,
    pub opened_at: i64,
    /// The incidents it explains, by their number or key there (or an INC number here).
    pub incidents: Vec<String>,
}

/// ServiceNow's (labels, choice values 101–107 and the pre-Utah ones) and JSM's problem states
/// as Watchkeeper's.
fn problem_state(raw: &str) -> Option<&'static str> {
    Some(match raw.trim().to_ascii_lowercase().as_str() {
        "new" | "open" | "101" | "1" => "new",
        "assess" | "under review" | "102" => "assess",
        "root cause analysis" | "under investigation" | "investigating" | "103" | "known error" | "2" => {
            "root-cause-analysis"
        }
        "fix in progress" | "in progress" | "pending change" | "104" | "3" => "fix-in-progress",
        "resolved" | "completed" | "done" | "106" => "resolved",
        "closed" | "closed/resolved" | "canceled" | "cancelled" | "107" | "4" => "closed",
        _ => return None,
    })
}

/// A close code as Watchkeeper's: fix-applied, risk-accepted, duplicate, not-a-problem.
fn close_code(raw: &str) -> Option<&'static str> {
    let s = raw.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    Some(match s.as_str() {
        "fix applied" | "fixed" | "done" | "permanent fix" => "fix-applied",
        "risk accepted" | "won't fix" | "won't do" | "accepted" => "risk-accepted",
        "duplicate" => "duplicate",
        "canceled" | "cancelled" | "not a problem" | "cannot reproduce" | "declined" => "not-a-problem",
        _ => return None,
    })
}

/// References in one cell: `INC0010001, INC0010002`, `IT-7 IT-9`, `IT-7;IT-9`.
fn refs(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split([',', ';', ' ', '\n', '\t']).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned)
}

fn error(file: &str, at: &str, field: Option<&str>, message: String) -> ImportError {
    ImportError { file: file.to_owned(), at: at.to_owned(), field: field.map(str::to_owned), message }
}

/// What every record is checked for: its number or key there (present, and not on an
/// earlier row) and its short description.
fn check_identity(
    file: &str,
    n: usize,
    source_ref: &str,
    short: &str,
    seen: &mut HashMap<String, usize>,
    errors: &mut Vec<ImportError>,
) {
    let at = format!("row {n}");
    if source_ref.is_empty() {
        errors.push(error(file, &at, Some("source_ref"), "the record's number or key is empty".into()));
    } else if let Some(first) = seen.insert(source_ref.to_owned(), n) {
        errors.push(error(file, &at, Some("source_ref"), format!("`{source_ref}` again (first on row {first})")));
    }
    if short.is_empty() || short.chars().count() > 160 {
        errors.push(error(file, &at, Some("short_description"), "required, up to 160 characters".into()));
    }
}

/// An export opened: its columns and its rows.
struct Sheet<'a> {
    headers: Vec<String>,
    reader: ::csv::Reader<&'a [u8]>,
}

impl<'a> Sheet<'a> {
    /// Opens an export and checks it has a column for every required field; otherwise every
    /// missing one is an error naming the columns it has.
    fn open(file: &str, bytes: &'a [u8], mapping: &Mapping, required: &[&str]) -> Result<Sheet<'a>, Vec<ImportError>> {
        // Excel and ServiceNow write a byte-order mark.
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut reader = ::csv::ReaderBuilder::new().trim(::csv::Trim::All).flexible(true).from_reader(bytes);
        let headers = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => return Err(vec![error(file, "header", None, format!("not CSV: {e}"))]),
        };
        let sheet = Sheet { headers, reader };
        let missing = sheet.missing(file, mapping, required);
        if missing.is_empty() { Ok(sheet) } else { Err(missing) }
    }

    /// Every column a field is read from: JSM repeats a link column once per link.
    fn columns(&self, mapping: &Mapping, field: &str) -> Vec<usize> {
        let Some(name) = mapping.columns.get(field) else { return Vec::new() };
        (0..self.headers.len()).filter(|&i| self.headers[i].eq_ignore_ascii_case(name)).collect()
    }

    /// The required fields whose column the export lacks, each an error naming the columns it has.
    fn missing(&self, file: &str, mapping: &Mapping, required: &[&str]) -> Vec<ImportError> {
        required
            .iter()
            .filter(|f| self.columns(mapping, f).is_empty())
            .map(|f| {
                let name = mapping.columns.get(*f).map_or("?", String::as_str);
                ImportError {
                    file: file.to_owned(),
                    at: "header".into(),
                    field: Some((*f).to_owned()),
                    message: format!(
                        "no column `{name}`; the export has: {}; map it with {f}=COLUMN",
                        self.headers.join(", ")
                    ),
                }
            })
            .collect()
    }
}

/// Reads a problem export. Returns the records that read and every mistake found.
pub fn read_problems(
    file: &str,
    bytes: &[u8],
    mapping: &Mapping,
    tz: &jiff::tz::TimeZone,
) -> (Vec<ProblemRecord>, Vec<ImportError>) {
    let err = |at: String, field: Option<&str>, message: String| error(file, &at, field, message);
    let mut sheet = match Sheet::open(file, bytes, mapping, &["source_ref", "short_description", "state", "opened_at"])
    {
        Ok(s) => s,
        Err(errors) => return (Vec::new(), errors),
    };
    let mut errors = Vec::new();
    let cols: HashMap<&str, Vec<usize>> = mapping.fields.iter().map(|f| (*f, sheet.columns(mapping, f))).collect();
    let mut records = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in sheet.reader.records().enumerate() {
        let n = i + 1;
        let at = format!("row {n}");
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(at, None, format!("does not read as CSV: {e}")));
                continue;
            }
        };
        let cells = |field: &str| -> Vec<&str> {
            cols.get(field).map(|cs| cs.iter().filter_map(|c| row.get(*c)).map(str::trim).collect()).unwrap_or_default()
        };
        let get = |field: &str| cells(field).into_iter().find(|c| !c.is_empty()).unwrap_or("").to_owned();
        let before = errors.len();
        let (source_ref, short) = (get("source_ref"), get("short_description"));
        check_identity(file, n, &source_ref, &short, &mut seen, &mut errors);
        let st = problem_state(&get("state"));
        if st.is_none() {
            errors.push(err(
                at.clone(),
                Some("state"),
                format!("`{}` is not a problem state this import knows (New, Assess, Root Cause Analysis, Fix in Progress, Resolved, Closed)", get("state")),
            ));
        }
        let raw_code = get("close_code");
        let code = close_code(&raw_code);
        if !raw_code.is_empty() && code.is_none() {
            errors.push(err(
                at.clone(),
                Some("close_code"),
                format!("`{raw_code}`: Fix Applied, Risk Accepted, Duplicate or Canceled"),
            ));
        }
        let raw_opened = get("opened_at");
        let opened = instant(&raw_opened, tz);
        if opened.is_none() {
            let why = if raw_opened.is_empty() {
                "when it was opened is required".into()
            } else {
                format!("`{raw_opened}` is not a date and time")
            };
            errors.push(err(at.clone(), Some("opened_at"), why));
        }
        if errors.len() > before {
            continue;
        }
        let (Some(state), Some(opened_at)) = (st, opened) else { continue };
        let assumed = state == "closed" && code.is_none();
        records.push(ProblemRecord {
            row: n,
            source_ref,
            short_description: short,
            symptom: get("symptom"),
            root_cause: get("root_cause"),
            workaround: get("workaround"),
            fix: get("fix"),
            state: state.to_owned(),
            close_code: match (state, code) {
                ("closed", None) => "fix-applied".into(),
                (_, c) => c.unwrap_or_default().to_owned(),
            },
            close_code_assumed: assumed,
            opened_by: Some(get("opened_by")).filter(|o| !o.is_empty()).unwrap_or_else(|| "unknown (imported)".into()),
            opened_at,
            incidents: cells("incidents").into_iter().flat_map(refs).collect(),
        });
    }
    (records, errors)
}

/// ServiceNow's and JSM's state names as Watchkeeper's.
fn state(source: Source, raw: &str) -> Option<&'static str> {
    let s = raw.trim().to_ascii_lowercase();
    // ServiceNow exports may carry the choice value (1–8) instead of its label.
    let s = match (source, s.as_str()) {
        (Source::ServiceNow, "1") => "new",
        (Source::ServiceNow, "2") => "in progress",
        (Source::ServiceNow, "3") => "on hold",
        (Source::ServiceNow, "6") => "resolved",
        (Source::ServiceNow, "7") => "closed",
        (Source::ServiceNow, "8") => "canceled",
        _ => s.as_str(),
    };
    Some(match s {
        "new" | "open" | "to do" | "waiting for support" => "new",
        "in progress" | "work in progress" | "investigating" | "escalated" => "in-progress",
        "on hold" | "pending" | "waiting for customer" | "waiting for vendor" => "on-hold",
        "resolved" | "done" => "resolved",
        "closed" => "closed",
        "canceled" | "cancelled" | "declined" | "won't do" => "cancelled",
        _ => return None,
    })
}

/// `1 - Critical`, `2`, `Highest`, `P3`… as 1–5.
fn priority(source: Source, raw: &str) -> Option<u8> {
    let s = raw.trim().to_ascii_lowercase();
    if let Some(d) = s.trim_start_matches('p').chars().next().and_then(|c| c.to_digit(10)) {
        return u8::try_from(d).ok().filter(|p| (1..=5).contains(p));
    }
    match (source, s.as_str()) {
        (_, "critical" | "highest" | "blocker") => Some(1),
        (_, "high" | "major") => Some(2),
        (_, "medium" | "moderate") => Some(3),
        (_, "low" | "minor") => Some(4),
        (_, "lowest" | "planning" | "trivial") => Some(5),
        _ => None,
    }
}

/// An export's timestamp in `tz` (ServiceNow `2026-03-01 08:15:00`, JSM `01/Mar/26 8:15 AM`,
/// or RFC 3339).
pub fn instant(raw: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = raw.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M"] {
        if let Ok(dt) = jiff::civil::DateTime::strptime(format, s) {
            return dt.to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_millisecond());
        }
    }
    None
}

/// Reads an export. Returns the records that read and every mistake found (a dry run shows
/// them all; an import refuses the file while there is one).
pub fn read_incidents(
    file: &str,
    bytes: &[u8],
    source: Source,
    mapping: &Mapping,
    tz: &jiff::tz::TimeZone,
) -> (Vec<IncidentRecord>, Vec<ImportError>) {
    let err = |at: String, field: Option<&str>, message: String| error(file, &at, field, message);
    let required = ["source_ref", "short_description", "priority", "state", "opened_at"];
    let mut sheet = match Sheet::open(file, bytes, mapping, &required) {
        Ok(s) => s,
        Err(errors) => return (Vec::new(), errors),
    };
    let mut errors = Vec::new();
    let cols: HashMap<&str, Option<usize>> =
        mapping.fields.iter().map(|f| (*f, sheet.columns(mapping, f).first().copied())).collect();
    let column = |field: &str| cols.get(field).copied().flatten();
    let mut records = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in sheet.reader.records().enumerate() {
        let n = i + 1;
        let at = format!("row {n}");
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(err(at, None, format!("does not read as CSV: {e}")));
                continue;
            }
        };
        let get = |field: &str| column(field).and_then(|c| row.get(c)).unwrap_or("").trim().to_owned();
        let before = errors.len();
        let (source_ref, short) = (get("source_ref"), get("short_description"));
        check_identity(file, n, &source_ref, &short, &mut seen, &mut errors);
        let p = priority(source, &get("priority"));
        if p.is_none() {
            errors.push(err(at.clone(), Some("priority"), format!("`{}`: 1–5 or Critical…Lowest", get("priority"))));
        }
        let st = state(source, &get("state"));
        if st.is_none() {
            errors.push(err(at.clone(), Some("state"), format!("`{}` is not a state this import knows", get("state"))));
        }
        let when = |field: &str, errors: &mut Vec<ImportError>| -> Option<i64> {
            let raw = get(field);
            if raw.is_empty() {
                return None;
            }
            let t = instant(&raw, tz);
            if t.is_none() {
                errors.push(err(at.clone(), Some(field), format!("`{raw}` is not a date and time")));
            }
            t
        };
        let opened = when("opened_at", &mut errors);
        if opened.is_none() && get("opened_at").is_empty() {
            errors.push(err(at.clone(), Some("opened_at"), "when it was opened is required".into()));
        }
        let resolved = when("resolved_at", &mut errors);
        let closed = when("closed_at", &mut errors);
        if let (Some(o), Some(r)) = (opened, resolved)
            && r < o
        {
            errors.push(err(at.clone(), Some("resolved_at"), "before it was opened".into()));
        }
        if matches!(st, Some("resolved" | "closed")) && resolved.or(closed).is_none() {
            errors.push(err(at.clone(), Some("resolved_at"), "a resolved or closed incident needs when".into()));
        }
        if errors.len() > before {
            continue;
        }
        let (Some(priority), Some(state), Some(opened_at)) = (p, st, opened) else { continue };
        let opt = |v: String| Some(v).filter(|v| !v.is_empty());
        records.push(IncidentRecord {
            row: n,
            source_ref,
            short_description: short,
            description: get("description"),
            caller: opt(get("caller")).unwrap_or_else(|| "unknown (imported)".into()),
            category: get("category").to_lowercase(),
            subcategory: get("subcategory"),
            item: opt(get("item")),
            priority,
            state: state.to_owned(),
            assignment_group: get("assignment_group"),
            assignee: opt(get("assignee")),
            resolution_code: get("resolution_code"),
            resolution_notes: get("resolution_notes"),
            opened_at,
            // A closed incident without a resolution time was resolved when it closed.
            resolved_at: resolved.or(if matches!(state, "resolved" | "closed") { closed } else { None }),
            closed_at: closed.filter(|_| state == "closed"),
            problem: opt(get("problem")),
        });
    }
    (records, errors)
}

/// The fuzz target `desk_csv`: any bytes as either source's export. Also replayed over the
/// seeds in `cargo test`.
pub fn fuzz_one(data: &[u8]) {
    let tz = jiff::tz::TimeZone::UTC;
    for source in [Source::ServiceNow, Source::Jsm] {
        let (records, _) = read_incidents("fuzz.csv", data, source, &Mapping::preset(source), &tz);
        for r in records {
            assert!((1..=5).contains(&r.priority) && !r.source_ref.is_empty());
        }
        let (problems, _) = read_problems("fuzz.csv", data, &Mapping::problem_preset(source), &tz);
        for p in problems {
            assert!(!p.source_ref.is_empty() && (p.state != "closed" || !p.close_code.is_empty()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    const SNOW: &str = "\u{feff}number,short_description,caller_id,category,cmdb_ci,priority,state,assignment_group,assigned_to,close_code,close_notes,opened_at,resolved_at,closed_at\n\
INC0010001,Core switch down,Omar,Network,pn-core-sw1,1 - Critical,Closed,L3 Network,engineer,Solved (Permanently),Supervisor replaced,2026-03-01 08:15:00,2026-03-01 11:00:00,2026-03-03 09:00:00\n\
INC0010002,VPN drops,Siemens,Network,,3 - Moderate,In Progress,L2,,,,2026-03-02 02:00:00,,\n";

    #[test]
    fn a_servicenow_export_reads_with_its_preset() {
        let london = TimeZone::get("Europe/London").unwrap();
        let (recs, errors) = read_incidents(
            "incidents.csv",
            SNOW.as_bytes(),
            Source::ServiceNow,
            &Mapping::preset(Source::ServiceNow),
            &london,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(recs.len(), 2);
        let r = &recs[0];
        assert_eq!((r.priority, r.state.as_str(), r.item.as_deref()), (1, "closed", Some("pn-core-sw1")));
        assert_eq!(
            r.opened_at,
            "2026-03-01T08:15:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond(),
            "GMT in March"
        );
        assert_eq!((recs[1].state.as_str(), recs[1].priority, &recs[1].assignee), ("in-progress", 3, &None));
    }

    #[test]
    fn a_jsm_export_and_every_mistake_named() {
        let csv = "Issue key,Summary,Reporter,Priority,Status,Created,Resolved\n\
IT-7,Printer jam,Ana,Highest,Waiting for support,01/Mar/26 8:15 AM,\n\
IT-8,,Bo,Urgent-ish,Sleeping,yesterday,\n\
IT-7,Dup,Cy,Low,Done,02/Mar/26 9:00 AM,01/Mar/26 9:00 AM\n";
        let (recs, errors) =
            read_incidents("jsm.csv", csv.as_bytes(), Source::Jsm, &Mapping::preset(Source::Jsm), &TimeZone::UTC);
        assert_eq!(recs.len(), 1);
        assert_eq!((recs[0].priority, recs[0].state.as_str()), (1, "new"));
        let said: Vec<String> =
            errors.iter().map(|e| format!("{} {}", e.at, e.field.as_deref().unwrap_or(""))).collect();
        assert_eq!(
            said,
            [
                "row 2 short_description",
                "row 2 priority",
                "row 2 state",
                "row 2 opened_at",
                "row 3 source_ref",
                "row 3 resolved_at"
            ]
        );
        // A column the export does not have is said at once, with the columns it has.
        let (_, errors) = read_incidents(
            "jsm.csv",
            b"Key,Title\nIT-1,x\n",
            Source::Jsm,
            &Mapping::preset(Source::Jsm),
            &TimeZone::UTC,
        );
        assert!(
            errors[0].message.contains("no column `Issue key`") && errors[0].message.contains("Key, Title"),
            "{errors:?}"
        );
        let mapped = Mapping::preset(Source::Jsm).with_overrides(&[("source_ref".into(), "Key".into())]).unwrap();
        assert_eq!(mapped.columns["source_ref"], "Key");
        assert!(Mapping::preset(Source::Jsm).with_overrides(&[("colour".into(), "x".into())]).is_err());
    }

    #[test]
    fn problem_exports_read_with_their_presets() {
        let snow = "number,short_description,description,cause_notes,workaround,fix_notes,state,resolution_code,opened_by,opened_at\n\
PRB0040001,Core pair flaps under load,Uplinks flap at shift change,Supervisor firmware bug CSCxx12345,Pin the uplink to sup A,Upgrade to 17.9.4,Closed,Fix Applied,Ana,2026-02-01 09:00:00\n\
PRB0040002,Historian lags,Replication lag,,Restart the agent,,Root Cause Analysis,,Bo,2026-02-03 10:00:00\n\
PRB0040003,VPN drops,,,,,107,,Cy,2026-02-04 10:00:00\n";
        let (recs, errors) = read_problems(
            "p.csv",
            snow.as_bytes(),
            &Mapping::problem_preset(Source::ServiceNow),
            &jiff::tz::TimeZone::UTC,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(&str, &str, bool)> =
            recs.iter().map(|r| (r.state.as_str(), r.close_code.as_str(), r.close_code_assumed)).collect();
        assert_eq!(
            got,
            [("closed", "fix-applied", false), ("root-cause-analysis", "", false), ("closed", "fix-applied", true)]
        );
        assert_eq!(recs[0].root_cause, "Supervisor firmware bug CSCxx12345");
        // JSM repeats a link column once per linked issue.
        let jsm = "Issue key,Summary,Status,Resolution,Created,Outward issue link (Problem/Incident),Outward issue link (Problem/Incident)\n\
PRB-3,Badge readers reboot,Under investigation,,01/Mar/26 8:15 AM,IT-7,IT-9\n\
PRB-4,,Sleeping,Maybe,someday,,\n";
        let (recs, errors) =
            read_problems("j.csv", jsm.as_bytes(), &Mapping::problem_preset(Source::Jsm), &jiff::tz::TimeZone::UTC);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            (recs[0].state.as_str(), recs[0].incidents.clone()),
            ("root-cause-analysis", vec!["IT-7".to_owned(), "IT-9".to_owned()])
        );
        let said: Vec<String> =
            errors.iter().map(|e| format!("{} {}", e.at, e.field.as_deref().unwrap_or(""))).collect();
        assert_eq!(said, ["row 2 short_description", "row 2 state", "row 2 close_code", "row 2 opened_at"]);
        assert!(Mapping::problem_preset(Source::Jsm).with_overrides(&[("priority".into(), "x".into())]).is_err());
    }

    #[test]
    fn the_fuzz_seeds_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/desk_csv");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            fuzz_one(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 2);
    }

    proptest::proptest! {
        /// Rows of arbitrary cells under a ServiceNow header read without a panic, and every
        /// row is either a record or named in an error.
        #[test]
        fn every_row_is_read_or_reported(cells in proptest::collection::vec(proptest::collection::vec("[ -~]{0,12}", 10), 0..8)) {
            let mut csv = String::from("number,short_description,caller_id,category,cmdb_ci,priority,state,opened_at,resolved_at,closed_at\n");
            for row in &cells {
                let quoted: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                csv.push_str(&quoted.join(","));
                csv.push('\n');
            }
            let (records, errors) = read_incidents("p.csv", csv.as_bytes(), Source::ServiceNow, &Mapping::preset(Source::ServiceNow), &TimeZone::UTC);
            let reported: std::collections::HashSet<&str> = errors.iter().map(|e| e.at.as_str()).collect();
            proptest::prop_assert_eq!(records.len() + reported.len(), cells.len());
        }

        /// The same for problem exports, in either source's preset.
        #[test]
        fn every_problem_row_is_read_or_reported(cells in proptest::collection::vec(proptest::collection::vec("[ -~]{0,12}", 10), 0..8), jsm in proptest::bool::ANY) {
            let source = if jsm { Source::Jsm } else { Source::ServiceNow };
            let m = Mapping::problem_preset(source);
            let header: Vec<&str> = PROBLEM_FIELDS[..10].iter().map(|f| m.columns[*f].as_str()).collect();
            let mut csv = header.join(",") + "\n";
            for row in &cells {
                let quoted: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                csv.push_str(&quoted.join(","));
                csv.push('\n');
            }
            let (records, errors) = read_problems("p.csv", csv.as_bytes(), &m, &TimeZone::UTC);
            let reported: std::collections::HashSet<&str> = errors.iter().map(|e| e.at.as_str()).collect();
            proptest::prop_assert_eq!(records.len() + reported.len(), cells.len());
        }
    }
}
