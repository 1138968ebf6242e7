//! Traffic logs read as flows, to replay through filters: which rules real traffic uses, and
//! which no logged flow ever reached ("unused"). Read per line, whatever the mix:
//!
//! * Cisco ASA syslog `106100` (a flow an access list permitted or denied, with the list's
//!   name and a hit count) and `106023` (a flow denied by an `access-group`);
//! * PAN-OS traffic logs in CSV (`…,TRAFFIC,…`: addresses, ports and protocol at PAN-OS's
//!   documented columns);
//! * a plain CSV with a header naming `src`, `dst`, `proto`, `sport`, `dport` (and optionally
//!   `count`), as flow exporters write.
//!
//! A line that is none of these, or one of them that does not read, is counted in the
//! warnings with its line number and skipped. Parsing never fails.

use crate::acl::Flow;
use crate::device::Warning;
use std::net::IpAddr;

/// One logged flow: where it was read, the filter it names (ASA logs do), and how many
/// packets or connections the line stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFlow {
    pub line: usize,
    pub filter: Option<String>,
    pub flow: Flow,
    pub count: u64,
    /// What a zone firewall's log adds (PAN-OS): the rule that took the flow, its
    /// application and zones.
    pub zoned: Option<Zoned>,
}

/// The zone-policy side of a logged flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zoned {
    pub rule: String,
    pub application: String,
    pub from_zone: String,
    pub to_zone: String,
}

/// Reads every flow the log holds; lines that are not flows are warnings.
pub fn read(text: &str) -> (Vec<LogFlow>, Vec<Warning>) {
    let mut flows = Vec::new();
    let mut warnings = Vec::new();
    let mut csv: Option<Vec<String>> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let parsed = if let Some(at) = t.find("%ASA-") {
            asa(&t[at..])
        } else if t.contains(",TRAFFIC,") {
            panos(t)
        } else if let Some(header) = &csv {
            plain(header, t)
        } else if t.split(',').any(|f| f.trim() == "src") && t.split(',').any(|f| f.trim() == "dst") {
            csv = Some(t.split(',').map(|f| f.trim().to_lowercase()).collect());
            continue;
        } else {
            Err("not a flow log line this reader knows (ASA 106100/106023, PAN-OS TRAFFIC, CSV with a header)".into())
        };
        match parsed {
            Ok(Some((filter, flow, count, zoned))) => flows.push(LogFlow { line: n, filter, flow, count, zoned }),
            Ok(None) => {}
            Err(why) => warnings.push(Warning { line: n, text: t.chars().take(200).collect(), message: why }),
        }
    }
    (flows, warnings)
}

type Read = Result<Option<(Option<String>, Flow, u64, Option<Zoned>)>, String>;

/// A rule's hit counter from `show access-list` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitCount {
    /// The line in the `show` output.
    pub line: usize,
    pub acl: String,
    /// IOS: the entry's position in the list (1 for the first, remarks not counted). ASA:
    /// its `line N`, which counts remarks too.
    pub entry: usize,
    pub asa: bool,
    pub count: u64,
}

/// Hit counters from `show access-list` (IOS `(N matches)`, ASA `(hitcnt=N)`); `None` when
/// the text is not such output. ASA's indented lines (object-group expansions) are summed
/// into their entry's own line already, so they are skipped.
pub fn hit_counts(text: &str) -> Option<Vec<HitCount>> {
    let ios_header = |t: &str| {
        ["Standard IP access list ", "Extended IP access list ", "IPv6 access list ", "Reflexive IP access list "]
            .iter()
            .find_map(|h| t.strip_prefix(h))
            .map(|name| name.split_whitespace().next().unwrap_or("").to_owned())
    };
    let mut out = Vec::new();
    let mut seen = false;
    let mut current: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some(name) = ios_header(raw) {
            seen = true;
            current = Some((name, 0));
            continue;
        }
        if raw.starts_with("access-list ") && raw.contains(" line ") {
            seen = true;
            current = None;
            let w: Vec<&str> = raw.split_whitespace().collect();
            let (Some(name), Some(entry)) = (w.get(1), w.get(3).and_then(|n| n.parse().ok())) else { continue };
            if w.get(4) == Some(&"remark") {
                continue;
            }
            let count = raw
                .split("(hitcnt=")
                .nth(1)
                .and_then(|r| r.split(')').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            out.push(HitCount { line: i + 1, acl: (*name).to_owned(), entry, asa: true, count });
            continue;
        }
        // An IOS entry: indented, under its list's header.
        if let Some((name, k)) = current.as_mut()
            && raw.starts_with(' ')
            && !t.is_empty()
        {
            *k += 1;
            let count = t
                .rsplit_once('(')
                .and_then(|(_, r)| r.strip_suffix(" matches)").or_else(|| r.strip_suffix(" match)")))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            out.push(HitCount { line: i + 1, acl: name.clone(), entry: *k, asa: false, count });
        }
    }
    seen.then_some(out)
}

fn flow(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> Flow {
    // ICMP logs carry the type and code where ports would be.
    let icmp = matches!(proto, 1 | 58).then_some((sport as u8, dport as u8));
    let ported = matches!(proto, 6 | 17);
    Flow {
        src,
        dst,
        proto,
        sport: if ported { sport } else { 0 },
        dport: if ported { dport } else { 0 },
        icmp,
        established: false,
        fragment: false,
    }
}

fn proto(p: &str) -> Result<u8, String> {
    match p.to_ascii_lowercase().as_str() {
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "icmp6" | "ipv6-icmp" => Ok(58),
        "gre" => Ok(47),
        "esp" => Ok(50),
        n => n.parse().map_err(|_| format!("unknown protocol `{p}`")),
    }
}

fn ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("`{s}` is not an address"))
}

/// `%ASA-6-106100: access-list NAME permitted tcp IF/SRC(SPORT) -> IF/DST(DPORT) hit-cnt N …`
/// and `%ASA-4-106023: Deny tcp src IF:SRC/SPORT dst IF:DST/DPORT by access-group "NAME" …`.
/// Other ASA messages are not flows through a filter and are skipped quietly.
fn asa(m: &str) -> Read {
    let id = m.split(':').next().unwrap_or_default().rsplit('-').next().unwrap_or_default();
    let w: Vec<&str> = m.split_whitespace().collect();
    match id {
        "106100" => {
            let at = w.iter().position(|x| *x == "access-list").ok_or("no access-list name")?;
            let name = w.get(at + 1).ok_or("no access-list name")?;
            let p = proto(w.get(at + 3).ok_or("no protocol")?)?;
            let end = |s: &str| -> Result<(IpAddr, u16), String> {
                // `if/addr(port)`
                let (_, rest) = s.split_once('/').ok_or_else(|| format!("`{s}` is not IF/ADDR(PORT)"))?;
                let (addr, port) = rest.split_once('(').ok_or_else(|| format!("`{s}` is not IF/ADDR(PORT)"))?;
                Ok((ip(addr)?, port.trim_end_matches(')').parse().map_err(|_| format!("`{s}`: bad port"))?))
            };
            let (src, sport) = end(w.get(at + 4).ok_or("no source")?)?;
            let (dst, dport) = end(w.get(at + 6).ok_or("no destination")?)?;
            let count = w
                .iter()
                .position(|x| *x == "hit-cnt")
                .and_then(|i| w.get(i + 1))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            Ok(Some((Some((*name).to_owned()), flow(src, dst, p, sport, dport), count, None)))
        }
        "106023" => {
            let p = proto(w.get(2).ok_or("no protocol")?)?;
            let end = |key: &str| -> Result<(IpAddr, u16), String> {
                let i = w.iter().position(|x| *x == key).ok_or_else(|| format!("no `{key}`"))?;
                let v = w.get(i + 1).ok_or_else(|| format!("nothing after `{key}`"))?;
                let (_, rest) = v.split_once(':').ok_or_else(|| format!("`{v}` is not IF:ADDR/PORT"))?;
                match rest.rsplit_once('/') {
                    Some((a, port)) => Ok((ip(a)?, port.parse().map_err(|_| format!("`{v}`: bad port"))?)),
                    None => Ok((ip(rest)?, 0)),
                }
            };
            let (src, sport) = end("src")?;
            let (dst, dport) = end("dst")?;
            let (mut sport, mut dport) = (sport, dport);
            if p == 1 {
                // `(type 8, code 0)`
                let num = |key: &str| {
                    w.iter()
                        .position(|x| x.trim_start_matches('(') == key)
                        .and_then(|i| w.get(i + 1))
                        .and_then(|v| v.trim_end_matches([',', ')']).parse::<u16>().ok())
                };
                sport = num("type").unwrap_or(0);
                dport = num("code").unwrap_or(0);
            }
            let name = m.split('"').nth(1).map(str::to_owned);
            Ok(Some((name, flow(src, dst, p, sport, dport), 1, None)))
        }
        _ => Ok(None),
    }
}

/// A PAN-OS TRAFFIC line: source and destination addresses at columns 8 and 9, the rule at
/// 12, the application at 15, the zones at 17 and 18, ports at 25 and 26, protocol at 30
/// (PAN-OS's syslog field order). A PAN-OS policy counts the rule the line names as hit;
/// other filters replay the flow.
fn panos(t: &str) -> Read {
    let f = fields(t);
    let get = |i: usize| f.get(i - 1).map(String::as_str).ok_or_else(|| format!("only {} columns", f.len()));
    let p = proto(get(30)?)?;
    let port = |i: usize| -> Result<u16, String> { get(i)?.parse().map_err(|_| format!("column {i}: not a port")) };
    let zoned = Zoned {
        rule: get(12)?.to_owned(),
        application: get(15)?.to_owned(),
        from_zone: get(17)?.to_owned(),
        to_zone: get(18)?.to_owned(),
    };
    Ok(Some((None, flow(ip(get(8)?)?, ip(get(9)?)?, p, port(25)?, port(26)?), 1, Some(zoned))))
}

/// A CSV line split on commas, double quotes honoured.
fn fields(t: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in t.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().map_or((), |f| f.push(c)),
        }
    }
    out
}

fn plain(header: &[String], t: &str) -> Read {
    let f = fields(t);
    let get =
        |name: &str| -> Option<&str> { header.iter().position(|h| h == name).and_then(|i| f.get(i)).map(|s| s.trim()) };
    let need = |name: &str| get(name).filter(|v| !v.is_empty()).ok_or_else(|| format!("no `{name}` value"));
    let p = proto(need("proto")?)?;
    let port = |name: &str| -> Result<u16, String> {
        get(name)
            .filter(|v| !v.is_empty())
            .map_or(Ok(0), |v| v.parse().map_err(|_| format!("`{name}`: `{v}` is not a port")))
    };
    let count = get("count").and_then(|c| c.parse().ok()).unwrap_or(1);
    Ok(Some((None, flow(ip(need("src")?)?, ip(need("dst")?)?, p, port("sport")?, port("dport")?), count, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_access_list_hit_counts() {
        let ios = "\
Extended IP access list OUTSIDE_IN
    10 permit tcp any host 10.1.1.10 eq www (1523 matches)
    20 permit udp any any eq domain
    30 deny ip any any (12 matches)
Standard IP access list 10
    10 permit 10.0.0.0, wildcard bits 0.255.255.255 (1 match)
";
        let h = hit_counts(ios).unwrap();
        let got: Vec<(&str, usize, u64)> = h.iter().map(|c| (c.acl.as_str(), c.entry, c.count)).collect();
        assert_eq!(got, [("OUTSIDE_IN", 1, 1523), ("OUTSIDE_IN", 2, 0), ("OUTSIDE_IN", 3, 12), ("10", 1, 1)]);
        let asa = "\
access-list OUTSIDE_IN; 3 elements; name hash: 0x1
access-list OUTSIDE_IN line 1 remark web
access-list OUTSIDE_IN line 2 extended permit tcp any host 10.1.1.10 eq https (hitcnt=7) 0x2
access-list OUTSIDE_IN line 3 extended permit object-group SVC any any (hitcnt=0) 0x3
  access-list OUTSIDE_IN line 3 extended permit tcp any any eq 22 (hitcnt=0) 0x4
";
        let h = hit_counts(asa).unwrap();
        let got: Vec<(usize, u64, bool)> = h.iter().map(|c| (c.entry, c.count, c.asa)).collect();
        assert_eq!(got, [(2, 7, true), (3, 0, true)]);
        assert!(hit_counts("src,dst,proto\n1.1.1.1,2.2.2.2,tcp\n").is_none());
    }

    #[test]
    fn asa_panos_and_csv_lines_read_as_flows() {
        let log = "\
Nov 23 10:00:01 fw1 %ASA-6-106100: access-list outside_in permitted tcp outside/198.51.100.7(40001) -> inside/10.0.0.10(443) hit-cnt 12 first hit [0x1, 0x0]
Nov 23 10:00:02 fw1 %ASA-4-106023: Deny udp src outside:198.51.100.8/5353 dst inside:10.0.0.11/53 by access-group \"outside_in\" [0x0, 0x0]
Nov 23 10:00:03 fw1 %ASA-4-106023: Deny icmp src outside:198.51.100.9 dst inside:10.0.0.12 (type 8, code 0) by access-group \"outside_in\" [0x0, 0x0]
Nov 23 10:00:04 fw1 %ASA-6-302013: Built inbound TCP connection 1 for outside:1.1.1.1/1 (1.1.1.1/1) to inside:2.2.2.2/2 (2.2.2.2/2)
1,2026/11/23 10:00:05,0011,TRAFFIC,end,2305,2026/11/23 10:00:05,192.0.2.5,203.0.113.9,0.0.0.0,0.0.0.0,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,fwd,,1,1,51000,443,0,0,0x0,tcp,allow
src,dst,proto,sport,dport,count
10.1.1.1,10.2.2.2,udp,123,123,7
garbage line
";
        let (flows, warnings) = read(log);
        assert_eq!(flows.len(), 5, "{warnings:?}");
        assert_eq!(warnings.iter().map(|w| w.line).collect::<Vec<_>>(), vec![8]);
        let f = &flows[0];
        assert_eq!((f.filter.as_deref(), f.count, f.flow.dport, f.flow.proto), (Some("outside_in"), 12, 443, 6));
        assert_eq!(
            (flows[1].flow.dport, flows[1].flow.sport, flows[1].filter.as_deref()),
            (53, 5353, Some("outside_in"))
        );
        assert_eq!(flows[2].flow.icmp, Some((8, 0)));
        assert_eq!(
            (flows[3].flow.dst.to_string(), flows[3].flow.dport, flows[3].filter.clone()),
            ("203.0.113.9".into(), 443, None)
        );
        let z = flows[3].zoned.as_ref().unwrap();
        assert_eq!(
            (z.rule.as_str(), z.application.as_str(), z.from_zone.as_str(), z.to_zone.as_str()),
            ("allow-web", "ssl", "trust", "untrust")
        );
        assert_eq!((flows[4].count, flows[4].line), (7, 7));
    }
}
