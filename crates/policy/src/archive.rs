//! What a configuration archive keeps of a device's configuration, as RANCID and Oxidized
//! do: the text with its secrets removed (passwords, keys, SNMP communities, pre-shared
//! keys — in any vendor's syntax this crate reads), and which lines are significant, so a
//! configuration that differs only in a timestamp or a checksum is not a new version.
//!
//! Redaction replaces only the secret word, keeping the keyword and any encryption-type
//! digit, so the hardening checks (`enable password` vs `enable secret`, SNMP communities
//! present, type-7 passwords) and every parser read a redacted configuration as they read
//! the original.

/// What redaction writes in place of a secret.
pub const REDACTED: &str = "<removed>";
/// The same inside an XML element, escaped so the document stays well-formed.
const REDACTED_XML: &str = "&lt;removed&gt;";

/// Words after which the next word is a secret (after an optional encryption type).
const SECRET_AFTER: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "passphrase",
    "key-string",
    "pre-shared-key",
    "authentication-key",
    "encrypted-password",
    "authentication-password",
    "privacy-password",
    "auth-password",
    "priv-password",
    "community",
    "snmp-community-string",
    "phash",
    "authpwd",
    "privpwd",
    "md5",
];

/// `key` is a secret only in statements that start with these words (elsewhere it names
/// key chains and crypto keys); `crypto isakmp key` is the one `crypto` form.
const KEY_STATEMENTS: &[&str] = &["tacacs-server", "radius-server", "key", "tacacs", "radius", "pre-shared-key"];

/// SNMPv3 algorithms between `auth`/`priv` and the secret.
const SNMP_ALGORITHMS: &[&str] = &[
    "md5", "sha", "sha-224", "sha-256", "sha-384", "sha-512", "des", "3des", "aes", "aes-128", "aes128", "aes192",
    "aes256",
];

/// Words between a keyword and its secret that say how the secret is written.
const ENCODING: &[&str] =
    &["0", "5", "6", "7", "8", "9", "encrypted", "ascii-text", "hex", "level", "unencrypted", "hashed", "pbkdf2"];

/// XML elements (PAN-OS) whose text is a secret.
const SECRET_ELEMENTS: &[&str] = &[
    "phash",
    "password",
    "key",
    "community",
    "snmp-community-string",
    "authpwd",
    "privpwd",
    "secret",
    "passphrase",
    "auth-password",
    "priv-password",
];

/// Lines that change without the configuration changing: timestamps, checksums, the clock's
/// drift. Matched at the start of a trimmed line.
const VOLATILE: &[&str] = &[
    "! Last configuration change at",
    "! NVRAM config last updated at",
    "! No configuration change since last restart",
    "ntp clock-period",
    "Cryptochecksum:",
    ": Written by",
    ": Saved",
    "## Last commit:",
    "## Last changed:",
    "#TMSH-VERSION",
    "Building configuration...",
    "Current configuration :",
];

/// A configuration with its secrets removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    /// How many secrets were removed.
    pub secrets: usize,
}

/// Removes the secrets of a configuration, line by line. Idempotent.
pub fn redact(text: &str) -> Redacted {
    let mut out = String::with_capacity(text.len());
    let mut secrets = 0;
    for line in text.split_inclusive('\n') {
        let (body, end) = split_ending(line);
        let words_done = redact_words(body, &mut secrets);
        out.push_str(&redact_elements(&words_done, &mut secrets));
        out.push_str(end);
    }
    Redacted { text: out, secrets }
}

/// The lines that make a configuration what it is: every line but the volatile ones, with
/// trailing spaces removed. Two configurations with the same significant lines are one
/// version.
pub fn significant_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim_end).filter(|l| !volatile(l))
}

/// How a line of a diff reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineChange {
    Same,
    Removed,
    Added,
}

/// One line of a diff, with its numbers in the old and the new version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiffLine {
    pub change: LineChange,
    pub old_line: Option<usize>,
    pub new_line: Option<usize>,
    pub text: String,
}

/// A run of changed lines with the unchanged lines around them, as `diff -u` prints a hunk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<DiffLine>,
}

/// The line diff of two versions of a configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineDiff {
    pub added: usize,
    pub removed: usize,
    pub hunks: Vec<Hunk>,
}

impl LineDiff {
    /// The diff in unified format (`diff -u`), headed by the two versions' names.
    pub fn unified(&self, old_name: &str, new_name: &str) -> String {
        let mut out = format!("--- {old_name}\n+++ {new_name}\n");
        for h in &self.hunks {
            out.push_str(&format!("@@ -{},{} +{},{} @@\n", h.old_start, h.old_lines, h.new_start, h.new_lines));
            for l in &h.lines {
                let sign = match l.change {
                    LineChange::Same => ' ',
                    LineChange::Removed => '-',
                    LineChange::Added => '+',
                };
                out.push(sign);
                out.push_str(&l.text);
                out.push('\n');
            }
        }
        out
    }
}

/// The lines that differ between two configurations (Myers' diff, as `diff` computes it),
/// with `context` unchanged lines around each change.
pub fn line_diff(old: &str, new: &str, context: usize) -> LineDiff {
    let diff = similar::TextDiff::configure().algorithm(similar::Algorithm::Myers).diff_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    let mut hunks = Vec::new();
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (old_range, new_range) =
            (first.old_range().start..last.old_range().end, first.new_range().start..last.new_range().end);
        let mut lines = Vec::new();
        for op in &group {
            for change in diff.iter_changes(op) {
                let kind = match change.tag() {
                    similar::ChangeTag::Equal => LineChange::Same,
                    similar::ChangeTag::Delete => {
                        removed += 1;
                        LineChange::Removed
                    }
                    similar::ChangeTag::Insert => {
                        added += 1;
                        LineChange::Added
                    }
                };
                lines.push(DiffLine {
                    change: kind,
                    old_line: change.old_index().map(|i| i + 1),
                    new_line: change.new_index().map(|i| i + 1),
                    text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                });
            }
        }
        hunks.push(Hunk {
            // `diff -u` numbers an empty side from the line before it.
            old_start: if old_range.is_empty() { old_range.start } else { old_range.start + 1 },
            old_lines: old_range.len(),
            new_start: if new_range.is_empty() { new_range.start } else { new_range.start + 1 },
            new_lines: new_range.len(),
            lines,
        });
    }
    LineDiff { added, removed, hunks }
}

/// The configuration without its volatile lines, as the archive stores it (so a diff shows
/// changes, not clocks).
pub fn without_volatile(text: &str) -> String {
    text.split_inclusive('\n').filter(|l| !volatile(l)).collect()
}

fn volatile(line: &str) -> bool {
    let t = line.trim();
    VOLATILE.iter().any(|v| t.starts_with(v))
}

fn split_ending(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\n', '\r']);
    (body, &line[body.len()..])
}

fn bare(word: &str) -> String {
    word.trim_matches(|c| c == '"' || c == ';' || c == '\'').to_ascii_lowercase()
}

/// Whether a word can be a secret: not punctuation, not a keyword, not already removed.
fn secret_word(word: &str) -> bool {
    let b = bare(word);
    !b.is_empty()
        && !matches!(b.as_str(), "{" | "}" | "[" | "]")
        && !SECRET_AFTER.contains(&b.as_str())
        && !b.contains(REDACTED)
        && !b.contains(REDACTED_XML)
        && !word.starts_with('<')
}

fn redact_words(line: &str, secrets: &mut usize) -> String {
    // Word spans, so the line's spacing survives.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    let words: Vec<&str> = spans.iter().map(|&(s, e)| &line[s..e]).collect();
    let first = words.iter().map(|w| bare(w)).find(|w| w != "set" && w != "no").unwrap_or_default();
    let set_form = words.first().is_some_and(|w| *w == "set");
    let isakmp = words.len() > 2 && bare(words[0]) == "crypto" && bare(words[1]) == "isakmp";
    let mut hidden = vec![false; words.len()];
    let mut i = 0;
    while i < words.len() {
        let w = bare(words[i]);
        let keyword = match w.as_str() {
            // A statement of its own (`key 7 SECRET` in a server block) unless it names a key
            // chain or a key's number.
            "key" if first == "key" => match words.get(i + 1).map(|n| bare(n)) {
                Some(n) if words.len() == i + 2 => n != "chain" && !n.bytes().all(|b| b.is_ascii_digit()),
                Some(n) => ENCODING.contains(&n.as_str()),
                None => false,
            },
            "key" => KEY_STATEMENTS.contains(&first.as_str()) || isakmp,
            // SNMP communities; BGP communities (`set community`, `members`) are not secrets.
            "community" => {
                matches!(first.as_str(), "snmp-server" | "snmp")
                    || (first == "community" && !set_form && !words.iter().any(|w| bare(w) == "members"))
            }
            // `pre-shared-key address A key SECRET`: the secret follows `key`.
            "pre-shared-key" => !words.get(i + 1).is_some_and(|n| matches!(bare(n).as_str(), "address" | "hostname")),
            _ => SECRET_AFTER.contains(&w.as_str()),
        };
        // `snmp-server host H version 2c COMMUNITY` names its community by position.
        let community = w == "version"
            && first == "snmp-server"
            && words.get(i + 1).is_some_and(|v| matches!(bare(v).as_str(), "1" | "2c"));
        // SNMPv3 users: `auth sha SECRET`, `priv aes 128 SECRET`.
        let v3 = (w == "auth" || w == "priv") && first == "snmp-server";
        if keyword || community || v3 {
            let mut j = i + 1;
            if community || v3 && words.get(j).is_some_and(|a| SNMP_ALGORITHMS.contains(&bare(a).as_str())) {
                j += 1;
            }
            while j < words.len() && ENCODING.contains(&bare(words[j]).as_str()) && j + 1 < words.len() {
                // `level N` takes its number with it.
                j += if bare(words[j]) == "level" { 2 } else { 1 };
            }
            if v3 {
                while j < words.len() && matches!(bare(words[j]).as_str(), "128" | "192" | "256") {
                    j += 1;
                }
            }
            if j < words.len() && secret_word(words[j]) {
                hidden[j] = true;
                *secrets += 1;
                i = j;
            }
        }
        i += 1;
    }
    if !hidden.contains(&true) {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (k, &(s, e)) in spans.iter().enumerate() {
        if !hidden[k] {
            continue;
        }
        out.push_str(&line[at..s]);
        let word = &line[s..e];
        let quoted = word.starts_with('"');
        let tail = if word.ends_with(';') { ";" } else { "" };
        if quoted {
            out.push('"');
        }
        out.push_str(REDACTED);
        if quoted {
            out.push('"');
        }
        out.push_str(tail);
        at = e;
    }
    out.push_str(&line[at..]);
    out
}

fn redact_elements(line: &str, secrets: &mut usize) -> String {
    if !line.contains('<') {
        return line.to_owned();
    }
    let mut out = line.to_owned();
    for tag in SECRET_ELEMENTS {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut from = 0;
        while let Some(s) = out[from..].find(&open).map(|p| p + from + open.len()) {
            let Some(e) = out[s..].find(&close).map(|p| p + s) else { break };
            if s < e && &out[s..e] != REDACTED_XML && !out[s..e].contains('<') {
                out.replace_range(s..e, REDACTED_XML);
                *secrets += 1;
            }
            from = s;
            if from >= out.len() {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hidden(line: &str) -> String {
        redact(line).text
    }

    #[test]
    fn cisco_secrets_go_and_their_keywords_stay() {
        let cases = [
            ("enable secret 5 $1$abcd$xyz", "enable secret 5 <removed>"),
            ("enable password cisco", "enable password <removed>"),
            ("username admin privilege 15 secret 9 $9$q", "username admin privilege 15 secret 9 <removed>"),
            (" password 7 0822455D0A16", " password 7 <removed>"),
            ("snmp-server community public RO 10", "snmp-server community <removed> RO 10"),
            ("snmp-server host 10.0.0.5 version 2c s3cr3t", "snmp-server host 10.0.0.5 version 2c <removed>"),
            (
                "snmp-server user ops g1 v3 auth sha AuthPass priv aes 128 PrivPass",
                "snmp-server user ops g1 v3 auth sha <removed> priv aes 128 <removed>",
            ),
            ("tacacs-server key 7 1234ABCD", "tacacs-server key 7 <removed>"),
            (" key 7 1234ABCD", " key 7 <removed>"),
            ("crypto isakmp key VPNKEY address 1.2.3.4", "crypto isakmp key <removed> address 1.2.3.4"),
            (" pre-shared-key address 1.2.3.4 key VPNKEY", " pre-shared-key address 1.2.3.4 key <removed>"),
            (
                "snmp-server user a network-admin auth md5 0xab priv 0xcd localizedkey",
                "snmp-server user a network-admin auth md5 <removed> priv <removed> localizedkey",
            ),
            (" ip ospf message-digest-key 1 md5 ospfpw", " ip ospf message-digest-key 1 md5 <removed>"),
            (" standby 1 authentication md5 key-string hsrp", " standby 1 authentication md5 key-string <removed>"),
            (" neighbor 10.1.1.1 password bgppw", " neighbor 10.1.1.1 password <removed>"),
            (" ikev1 pre-shared-key *****", " ikev1 pre-shared-key <removed>"),
        ];
        for (line, want) in cases {
            assert_eq!(hidden(line), want, "{line}");
        }
        for kept in [
            "service password-encryption",
            "crypto key generate rsa modulus 2048",
            "key chain OSPF",
            " key 1",
            "no password",
            " set community 65000:100 additive",
            "community MYCOMM members 65000:100;",
        ] {
            assert_eq!(hidden(kept), kept);
        }
    }

    #[test]
    fn junos_panos_and_f5_secrets_go() {
        assert_eq!(hidden(r#"    encrypted-password "$6$salt$hash";"#), r#"    encrypted-password "<removed>";"#);
        assert_eq!(
            hidden(r#"set system root-authentication encrypted-password "$6$x""#),
            r#"set system root-authentication encrypted-password "<removed>""#
        );
        assert_eq!(hidden("    community public {"), "    community <removed> {");
        assert_eq!(hidden("authentication-order [ radius password ];"), "authentication-order [ radius password ];");
        assert_eq!(hidden("<phash>$1$abc</phash>"), "<phash>&lt;removed&gt;</phash>");
        assert_eq!(
            hidden("<pre-shared-key><key>-AQ==x</key></pre-shared-key>"),
            "<pre-shared-key><key>&lt;removed&gt;</key></pre-shared-key>"
        );
        assert_eq!(hidden("set mgt-config users admin phash $1$x"), "set mgt-config users admin phash <removed>");
        assert_eq!(hidden("    encrypted-password $6$f5"), "    encrypted-password <removed>");
    }

    #[test]
    fn volatile_lines_are_not_significant() {
        let a = "! Last configuration change at 10:00:01 UTC Mon\nhostname r1\nntp clock-period 17208\n";
        let b = "! Last configuration change at 11:12:13 UTC Tue\nhostname r1  \nntp clock-period 17999\n";
        assert!(significant_lines(a).eq(significant_lines(b)));
        assert!(!significant_lines(a).eq(significant_lines("hostname r2\n")));
        assert_eq!(without_volatile(a), "hostname r1\n");
    }

    #[test]
    fn a_changed_line_reads_as_diff_u_prints_it() {
        let old = "hostname r1\n!\ninterface Gi0/1\n ip access-group 101 in\n!\naccess-list 101 permit tcp any any eq 22\naccess-list 101 deny ip any any\n";
        let new = old.replace("eq 22", "eq 443");
        let d = line_diff(old, &new, 1);
        assert_eq!((d.added, d.removed, d.hunks.len()), (1, 1, 1));
        assert_eq!(
            d.unified("r1 v1", "r1 v2"),
            "--- r1 v1\n+++ r1 v2\n@@ -5,3 +5,3 @@\n !\n-access-list 101 permit tcp any any eq 22\n+access-list 101 permit tcp any any eq 443\n access-list 101 deny ip any any\n"
        );
        assert_eq!(line_diff(old, old, 3).hunks, []);
    }

    proptest! {
        /// Applying a diff's kept and added lines rebuilds the new version, and its kept and
        /// removed lines the old one, whatever the context.
        #[test]
        fn a_full_context_diff_rebuilds_both_versions(
            old in proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c"), Just("!")], 0..30),
            new in proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c"), Just("!")], 0..30),
        ) {
            let (old, new) = (old.join("\n"), new.join("\n"));
            let d = line_diff(&old, &new, usize::MAX / 4);
            let side = |keep: LineChange| d.hunks.iter().flat_map(|h| &h.lines)
                .filter(|l| l.change != keep).map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
            if d.hunks.is_empty() {
                prop_assert_eq!(&old, &new, "no hunk, no change");
            } else {
                prop_assert_eq!(side(LineChange::Removed), new.clone());
                prop_assert_eq!(side(LineChange::Added), old.clone());
            }
            prop_assert_eq!(d.added == 0 && d.removed == 0, old.lines().eq(new.lines()));
        }


        #[test]
        fn redaction_is_idempotent_and_keeps_the_line_count(words in proptest::collection::vec(
            prop_oneof![Just("secret"), Just("password"), Just("7"), Just("key"), Just("community"), Just("x"),
                Just("\"q\";"), Just("{"), Just("<key>v</key>"), Just("snmp-server"), Just("version"), Just("2c"),
                Just("\n"), Just("level"), Just("15")], 0..24)) {
            let text = words.join(" ");
            let once = redact(&text);
            let twice = redact(&once.text);
            prop_assert_eq!(&twice.text, &once.text);
            prop_assert_eq!(twice.secrets, 0);
            prop_assert_eq!(once.text.lines().count(), text.lines().count());
        }
    }
}
