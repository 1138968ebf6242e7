//! Active checks, run once each: ICMP echo (loss, round trip, jitter), TCP connect, HTTP(S)
//! (status, body, latency, and days left on the server's certificate), DNS lookups (`dns`)
//! and any Nagios-compatible plugin; and SNMP polling of IF-MIB and sysUpTime (`snmp`).
//! Every probe answers in the plugin's shape — a status, a line of text and performance
//! data — so that what a built-in probe and a plugin say are stored,
//! graphed and judged alike (`model::check`). Nothing here schedules, stores or decides what
//! a result means for an incident: that is `app::checks`.

use model::check::{Outcome, PerfDatum, Probe, Range, Status, expand, judge, parse_output};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod dns;
mod snmp;
pub use snmp::Credential;

/// What a probe runs against: the item's management address and name.
#[derive(Debug, Clone)]
pub struct Target {
    pub address: String,
    pub name: String,
}

/// Longest plugin output kept, as Nagios' MAX_PLUGIN_OUTPUT_LENGTH.
const MAX_OUTPUT: usize = 8192;

/// The shared parts probes need: one ICMP socket for every echo (so ten thousand targets
/// share one socket, not ten thousand) and one HTTP client.
#[derive(Clone)]
pub struct Probes {
    icmp: Option<Arc<surge_ping::Client>>,
    icmp_error: String,
    http: reqwest::Client,
    snmp: Arc<snmp::SnmpState>,
}

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probes").field("icmp", &self.icmp.is_some()).finish()
    }
}

impl Probes {
    /// Opens the ICMP socket (raw when privileged, else the kernel's unprivileged ICMP
    /// sockets; without either, ICMP checks say UNKNOWN and why) and builds the HTTP client.
    pub fn new() -> Probes {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let raw = surge_ping::Client::new(&surge_ping::Config::default());
        let (icmp, icmp_error) = match raw {
            Ok(c) => (Some(Arc::new(c)), String::new()),
            Err(_) => {
                let dgram = surge_ping::Config::builder().sock_type_hint(socket2::Type::DGRAM).build();
                match surge_ping::Client::new(&dgram) {
                    Ok(c) => (Some(Arc::new(c)), String::new()),
                    Err(e) => {
                        (None, format!("no ICMP socket ({e}); grant CAP_NET_RAW or set net.ipv4.ping_group_range"))
                    }
                }
            }
        };
        let http = reqwest::Client::builder()
            .tls_info(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("watchkeeper-check/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Probes { icmp, icmp_error, http, snmp: Arc::default() }
    }

    /// The SNMP credentials checks name, by name.
    pub fn with_snmp_credentials(mut self, credentials: std::collections::HashMap<String, Credential>) -> Probes {
        self.snmp = Arc::new(snmp::SnmpState::new(credentials));
        self
    }

    /// Runs one probe against one target, within `timeout` (past it: CRITICAL).
    pub async fn run(&self, probe: &Probe, target: &Target, timeout: Duration) -> Outcome {
        self.run_after(probe, target, timeout, None).await
    }

    /// Runs one probe as [`Probes::run`] does, judged against the baseline the run before it
    /// left (its outcome's `baseline`): an SNMP poll's rates and restarts come from it.
    pub async fn run_after(
        &self,
        probe: &Probe,
        target: &Target,
        timeout: Duration,
        baseline: Option<&model::ifmib::Snapshot>,
    ) -> Outcome {
        let started = Instant::now();
        let run = async {
            match probe {
                Probe::Icmp { count, rtt_warn_ms, rtt_crit_ms, loss_warn_pct, loss_crit_pct } => {
                    self.icmp(target, *count, (*rtt_warn_ms, *rtt_crit_ms), (*loss_warn_pct, *loss_crit_pct), timeout)
                        .await
                }
                Probe::Tcp { port, warn_ms, crit_ms } => tcp(target, *port, *warn_ms, *crit_ms).await,
                Probe::Http { url, expect_status, body_match, warn_ms, crit_ms, cert_warn_days, cert_crit_days } => {
                    let h = HttpCheck {
                        url: expand(url, &target.address, &target.name),
                        expect_status,
                        body_match: body_match.as_deref(),
                        latency: (*warn_ms, *crit_ms),
                        cert_days: (*cert_warn_days, *cert_crit_days),
                    };
                    self.http(h).await
                }
                Probe::Plugin { command } => plugin(command, target).await,
                Probe::Dns { name, record, server, port, expect, warn_ms, crit_ms } => {
                    let server = expand(server.as_deref().unwrap_or("$HOSTADDRESS$"), &target.address, &target.name);
                    let lookup = dns::Lookup {
                        name,
                        record,
                        server: &server,
                        port: *port,
                        expect,
                        latency: (*warn_ms, *crit_ms),
                    };
                    dns::lookup(&lookup).await
                }
                Probe::Snmp { credential, port, util_warn_pct, util_crit_pct, errors_warn_per_s, interfaces } => {
                    let spec = snmp::PollSpec {
                        credential,
                        port: *port,
                        limits: model::ifmib::Limits {
                            util_warn_pct: *util_warn_pct,
                            util_crit_pct: *util_crit_pct,
                            errors_warn_ps: *errors_warn_per_s,
                        },
                        interfaces: interfaces.as_deref().and_then(|re| regex::Regex::new(re).ok()),
                    };
                    snmp::poll(&self.snmp, &spec, &target.address, baseline).await
                }
            }
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(mut o) => {
                o.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
                o
            }
            Err(_) => Outcome::new(
                Status::Critical,
                format!("CRITICAL - check timed out after {} s", timeout.as_secs()),
                Vec::new(),
                timeout.as_secs_f64() * 1000.0,
            ),
        }
    }

    async fn icmp(&self, t: &Target, count: u32, rtt: (f64, f64), loss: (f64, f64), timeout: Duration) -> Outcome {
        let Some(client) = &self.icmp else {
            return Outcome::new(Status::Unknown, self.icmp_error.clone(), vec![], 0.0);
        };
        let Ok(addr) = t.address.parse::<IpAddr>() else {
            return Outcome::new(
                Status::Unknown,
                format!("UNKNOWN - `{}` is not an IP address", t.address),
                vec![],
                0.0,
            );
        };
        let mut pinger = client.pinger(addr, surge_ping::PingIdentifier(rand_id())).await;
        // Each echo waits its share of the check's time.
        let each = (timeout / count.max(1)).min(Duration::from_secs(2));
        pinger.timeout(each.saturating_sub(Duration::from_millis(50)).max(Duration::from_millis(100)));
        let payload = [0u8; 56];
        let mut rtts = Vec::with_capacity(count as usize);
        for seq in 0..count {
            if let Ok((_, d)) = pinger.ping(surge_ping::PingSequence(seq as u16), &payload).await {
                rtts.push(d.as_secs_f64() * 1000.0);
            }
            if seq + 1 < count {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let lost = 100.0 * f64::from(count - rtts.len() as u32) / f64::from(count.max(1));
        let pl = PerfDatum::new("pl", lost, "%").thresholds(Some(loss.0), Some(loss.1));
        if rtts.is_empty() {
            return Outcome::new(
                Status::Critical,
                format!("PING CRITICAL - {} unreachable (100% loss)", t.address),
                vec![pl],
                0.0,
            );
        }
        let rta = rtts.iter().sum::<f64>() / rtts.len() as f64;
        // Jitter as RFC 3550 has it in spirit: the mean difference between consecutive round trips.
        let jitter = if rtts.len() > 1 {
            rtts.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (rtts.len() - 1) as f64
        } else {
            0.0
        };
        let status = judge(rta, Some(Range::upto(rtt.0)).as_ref(), Some(Range::upto(rtt.1)).as_ref()).worst(judge(
            lost,
            Some(Range::upto(loss.0)).as_ref(),
            Some(Range::upto(loss.1)).as_ref(),
        ));
        let max = rtts.iter().copied().fold(0.0, f64::max);
        let min = rtts.iter().copied().fold(f64::INFINITY, f64::min);
        Outcome::new(
            status,
            format!("PING {status} - Packet loss = {lost:.0}%, RTA = {rta:.2} ms, jitter = {jitter:.2} ms"),
            vec![
                PerfDatum::new("rta", rta, "ms").thresholds(Some(rtt.0), Some(rtt.1)),
                pl,
                PerfDatum::new("rtmin", min, "ms"),
                PerfDatum::new("rtmax", max, "ms"),
                PerfDatum::new("jitter", jitter, "ms"),
            ],
            0.0,
        )
    }

    async fn http(&self, h: HttpCheck<'_>) -> Outcome {
        let started = Instant::now();
        let response = match self.http.get(&h.url).send().await {
            Ok(r) => r,
            Err(e) => {
                let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}"));
                return Outcome::new(Status::Critical, format!("HTTP CRITICAL - {}: {why}", h.url), vec![], 0.0);
            }
        };
        let code = response.status().as_u16();
        let cert_days =
            response.extensions().get::<reqwest::tls::TlsInfo>().and_then(|i| i.peer_certificate()).and_then(days_left);
        let body = response.bytes().await.unwrap_or_default();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut status = Status::Ok;
        let mut why = Vec::new();
        let ok_status =
            if h.expect_status.is_empty() { (200..400).contains(&code) } else { h.expect_status.contains(&code) };
        if !ok_status {
            status = Status::Critical;
            why.push(format!("status {code} unexpected"));
        }
        if let Some(re) = h.body_match {
            let found = regex::Regex::new(re).map(|r| r.is_match(&String::from_utf8_lossy(&body))).unwrap_or(false);
            if !found {
                status = Status::Critical;
                why.push(format!("body does not match `{re}`"));
            }
        }
        let latency = judge(ms, upto(h.latency.0).as_ref(), upto(h.latency.1).as_ref());
        if latency != Status::Ok {
            why.push(format!("{ms:.0} ms"));
        }
        status = status.worst(latency);
        let mut perf = vec![
            PerfDatum::new("time", ms / 1000.0, "s")
                .thresholds(h.latency.0.map(|v| v / 1000.0), h.latency.1.map(|v| v / 1000.0)),
            PerfDatum::new("size", body.len() as f64, "B"),
        ];
        if let Some(days) = cert_days {
            let (w, c) = h.cert_days;
            let cert = if c.is_some_and(|c| days < c) {
                Status::Critical
            } else if w.is_some_and(|w| days < w) {
                Status::Warning
            } else {
                Status::Ok
            };
            if cert != Status::Ok {
                why.push(format!("certificate expires in {days} days"));
            }
            status = status.worst(cert);
            perf.push(PerfDatum::new("cert_days", days as f64, ""));
        }
        let detail = if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) };
        Outcome::new(status, format!("HTTP {status} - {code} in {ms:.0} ms, {} bytes{detail}", body.len()), perf, 0.0)
    }
}

impl Default for Probes {
    fn default() -> Self {
        Probes::new()
    }
}

struct HttpCheck<'a> {
    url: String,
    expect_status: &'a [u16],
    body_match: Option<&'a str>,
    latency: (Option<f64>, Option<f64>),
    cert_days: (Option<i64>, Option<i64>),
}

/// A threshold given as a number: alert above it.
fn upto(v: Option<f64>) -> Option<Range> {
    v.map(Range::upto)
}

fn rand_id() -> u16 {
    // Distinct enough per pinger: echo replies are matched by identifier and sequence.
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Days until a DER certificate's notAfter.
fn days_left(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let now = jiff::Timestamp::now().as_second();
    Some((not_after - now).div_euclid(86_400))
}

async fn tcp(t: &Target, port: u16, warn_ms: Option<f64>, crit_ms: Option<f64>) -> Outcome {
    let started = Instant::now();
    let host = t.address.trim_start_matches('[').trim_end_matches(']');
    match tokio::net::TcpStream::connect((host, port)).await {
        Ok(_) => {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let status = judge(ms, upto(warn_ms).as_ref(), upto(crit_ms).as_ref());
            Outcome::new(
                status,
                format!("TCP {status} - {ms:.3} ms response time on {host} port {port}"),
                vec![
                    PerfDatum::new("time", ms / 1000.0, "s")
                        .thresholds(warn_ms.map(|v| v / 1000.0), crit_ms.map(|v| v / 1000.0)),
                ],
                0.0,
            )
        }
        Err(e) => Outcome::new(Status::Critical, format!("TCP CRITICAL - {host} port {port}: {e}"), vec![], 0.0),
    }
}

/// Runs a plugin as Nagios does: no shell, host macros filled, exit code read as the status,
/// output (at most 8 KiB) read as text and performance data. A plugin that cannot start is
/// UNKNOWN, saying why.
async fn plugin(command: &[String], t: &Target) -> Outcome {
    let Some((program, args)) = command.split_first() else {
        return Outcome::new(Status::Unknown, "UNKNOWN - no plugin named".into(), vec![], 0.0);
    };
    let args: Vec<String> = args.iter().map(|a| expand(a, &t.address, &t.name)).collect();
    let out = tokio::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    match out {
        Ok(o) => {
            let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
            if text.trim().is_empty() {
                text = String::from_utf8_lossy(&o.stderr).into_owned();
            }
            if text.len() > MAX_OUTPUT {
                let mut cut = MAX_OUTPUT;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            let status = Status::from_exit(o.status.code());
            let mut output = parse_output(&text);
            if output.text.is_empty() {
                output.text = format!("(no output; exit {:?})", o.status.code());
            }
            Outcome { status, output, duration_ms: 0.0, signals: Vec::new(), baseline: None }
        }
        Err(e) => Outcome::new(Status::Unknown, format!("UNKNOWN - cannot run {program}: {e}"), vec![], 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target { address: "127.0.0.1".into(), name: "localhost".into() }
    }

    #[tokio::test]
    async fn tcp_checks_say_open_and_closed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let p = Probes::new();
        let open = p.run(&Probe::Tcp { port, warn_ms: None, crit_ms: None }, &target(), Duration::from_secs(2)).await;
        assert_eq!(open.status, Status::Ok, "{open:?}");
        assert_eq!(open.output.perfdata[0].label, "time");
        // A port held bound but not listening: refused, and nobody else can take it meanwhile.
        let held = tokio::net::TcpSocket::new_v4().unwrap();
        held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = held.local_addr().unwrap().port();
        drop(listener);
        let closed = p.run(&Probe::Tcp { port, warn_ms: None, crit_ms: None }, &target(), Duration::from_secs(2)).await;
        assert_eq!(closed.status, Status::Critical, "{closed:?}");
        assert!(closed.output.text.contains("refused"), "{}", closed.output.text);
    }

    #[tokio::test]
    async fn plugins_exit_codes_and_timeouts() {
        let p = Probes::new();
        let sh = |script: &str| Probe::Plugin { command: vec!["/bin/sh".into(), "-c".into(), script.into()] };
        let warn = p
            .run(&sh("echo 'LOAD WARNING - $HOSTNAME$ | load1=3.5;3;5;0'; exit 1"), &target(), Duration::from_secs(5))
            .await;
        assert_eq!(warn.status, Status::Warning);
        assert_eq!(warn.output.perfdata[0].value, 3.5);
        let crashed = p.run(&sh("kill -9 $$"), &target(), Duration::from_secs(5)).await;
        assert_eq!(crashed.status, Status::Unknown);
        let slow = p.run(&sh("sleep 5"), &target(), Duration::from_secs(1)).await;
        assert_eq!(slow.status, Status::Critical);
        assert!(slow.output.text.contains("timed out"), "{}", slow.output.text);
        let missing = p
            .run(&Probe::Plugin { command: vec!["/nonexistent/check_x".into()] }, &target(), Duration::from_secs(1))
            .await;
        assert_eq!(missing.status, Status::Unknown);
        // Macros are filled in arguments (here the address), never by a shell.
        let echo = p
            .run(
                &Probe::Plugin { command: vec!["/bin/echo".into(), "OK $HOSTADDRESS$".into()] },
                &target(),
                Duration::from_secs(2),
            )
            .await;
        assert_eq!(echo.output.text, "OK 127.0.0.1");
    }
}
