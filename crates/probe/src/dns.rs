//! DNS checks, as Nagios' check_dns judges them: one query over UDP (again over TCP when the
//! answer comes back truncated), CRITICAL on silence, an error code, no record of the type,
//! or a missing expected value; latency against the thresholds otherwise. The messages are
//! `intake::dns`'s; this module only sends and waits.

use crate::upto;
use intake::dns::{self, Answer, RecordType};
use model::check::{Outcome, PerfDatum, Status, judge};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one query waits for its answer before it is sent again, and how often.
const ATTEMPT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 2;

/// A check's lookup, its server already known.
pub(crate) struct Lookup<'a> {
    pub name: &'a str,
    pub record: &'a str,
    pub server: &'a str,
    pub port: u16,
    pub expect: &'a [String],
    pub latency: (Option<f64>, Option<f64>),
}

fn critical(text: String) -> Outcome {
    Outcome::new(Status::Critical, text, vec![], 0.0)
}

/// Query ids: a fresh one per query, so an answer to an earlier one is told apart.
fn next_id() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = std::process::id() as u16;
    NEXT.fetch_add(1, Ordering::Relaxed).wrapping_mul(40_503).wrapping_add(seed)
}

/// An expected value as the answer would write it: addresses in their canonical form, names
/// without the trailing dot, any case.
fn canonical(v: &str) -> String {
    let v = v.trim().trim_end_matches('.');
    match v.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => v.to_ascii_lowercase(),
    }
}

pub(crate) async fn lookup(l: &Lookup<'_>) -> Outcome {
    let Some(rtype) = RecordType::parse(l.record) else {
        return Outcome::new(Status::Unknown, format!("DNS UNKNOWN - no record type {}", l.record), vec![], 0.0);
    };
    let server = l.server.trim_start_matches('[').trim_end_matches(']');
    let id = next_id();
    let q = match dns::query(id, l.name, rtype) {
        Ok(q) => q,
        Err(e) => return Outcome::new(Status::Unknown, format!("DNS UNKNOWN - {e}"), vec![], 0.0),
    };
    let started = Instant::now();
    let answer = match udp(server, l.port, &q, id).await {
        Ok(a) if a.truncated => tcp(server, l.port, &q, id).await,
        other => other,
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let a = match answer {
        Ok(a) => a,
        Err(why) => return critical(format!("DNS CRITICAL - {} {} from {server}: {why}", l.name, rtype.as_str())),
    };
    if a.rcode != 0 {
        return critical(format!(
            "DNS CRITICAL - {server} answered {} for {} {}",
            dns::rcode_name(a.rcode),
            l.name,
            rtype.as_str()
        ));
    }
    let values: Vec<String> =
        a.records.iter().filter(|r| r.rtype == rtype.code()).map(|r| canonical(&r.data)).collect();
    if values.is_empty() {
        return critical(format!("DNS CRITICAL - {server} has no {} record for {}", rtype.as_str(), l.name));
    }
    let missing: Vec<&String> = l.expect.iter().filter(|e| !values.contains(&canonical(e))).collect();
    let perf = vec![
        PerfDatum::new("time", ms / 1000.0, "s")
            .thresholds(l.latency.0.map(|v| v / 1000.0), l.latency.1.map(|v| v / 1000.0)),
    ];
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Outcome::new(
            Status::Critical,
            format!(
                "DNS CRITICAL - expected {} for {}, {server} returns {}",
                missing.join(", "),
                l.name,
                values.join(", ")
            ),
            perf,
            0.0,
        );
    }
    let status = judge(ms, upto(l.latency.0).as_ref(), upto(l.latency.1).as_ref());
    Outcome::new(
        status,
        format!("DNS {status}: {:.3} seconds response time. {} returns {}", ms / 1000.0, l.name, values.join(", ")),
        perf,
        0.0,
    )
}

async fn udp(server: &str, port: u16, q: &[u8], id: u16) -> Result<Answer, String> {
    let local = if server.contains(':') { "[::]:0" } else { "0.0.0.0:0" };
    let sock = UdpSocket::bind(local).await.map_err(|e| format!("no socket: {e}"))?;
    sock.connect((server, port)).await.map_err(|e| format!("{e}"))?;
    let mut buf = vec![0u8; 65_535];
    let mut unreadable = None;
    for _ in 0..ATTEMPTS {
        sock.send(q).await.map_err(|e| format!("send: {e}"))?;
        let deadline = tokio::time::Instant::now() + ATTEMPT;
        loop {
            match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => break,
                // ICMP port unreachable surfaces as an error on a connected socket.
                Ok(Err(e)) => return Err(format!("{e}")),
                Ok(Ok(n)) => match dns::decode(&buf[..n]) {
                    // Another query's answer, or a stray datagram: not this one's.
                    Ok(a) if a.id == id => return Ok(a),
                    Ok(_) => {}
                    Err(e) => unreadable = Some(e.to_string()),
                },
            }
        }
    }
    Err(unreadable.unwrap_or_else(|| format!("no answer within {} s", ATTEMPT.as_secs() * u64::from(ATTEMPTS))))
}

/// The query again over TCP (RFC 7766): each message led by its length.
async fn tcp(server: &str, port: u16, q: &[u8], id: u16) -> Result<Answer, String> {
    let exchange = async {
        let mut s = TcpStream::connect((server, port)).await.map_err(|e| format!("TCP: {e}"))?;
        let len = u16::try_from(q.len()).map_err(|_| "query too long".to_owned())?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend(q);
        s.write_all(&framed).await.map_err(|e| format!("TCP: {e}"))?;
        let n = s.read_u16().await.map_err(|e| format!("TCP: {e}"))?;
        let mut buf = vec![0u8; usize::from(n)];
        s.read_exact(&mut buf).await.map_err(|e| format!("TCP: {e}"))?;
        let a = dns::decode(&buf).map_err(|e| e.to_string())?;
        if a.id == id { Ok(a) } else { Err("TCP: the answer is to another query".to_owned()) }
    };
    tokio::time::timeout(ATTEMPT * ATTEMPTS, exchange).await.unwrap_or_else(|_| Err("no answer over TCP".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_type_a_check_may_name_is_read() {
        for t in model::check::DNS_RECORD_TYPES {
            assert_eq!(RecordType::parse(t).map(RecordType::as_str), Some(t));
        }
        assert_eq!(RecordType::ALL.len(), model::check::DNS_RECORD_TYPES.len());
    }

    #[test]
    fn expected_values_compare_as_answers_write_them() {
        assert_eq!(canonical("2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(canonical("Mail.Example.org."), "mail.example.org");
        assert_eq!(canonical(" 10.1.2.3 "), "10.1.2.3");
    }
}
