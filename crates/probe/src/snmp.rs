//! SNMP polling over UDP, v2c and v3: one session per poll (engine discovery and time
//! synchronisation for v3, with each agent's engine remembered between polls), sysUpTime and
//! the IF-MIB tables walked by GetBulk, and the previous poll of each device remembered so
//! that `model::ifmib` can turn two of them into rates, link changes and restarts. What
//! requests and answers look like is `intake::snmp`; this module only sends and waits.

use intake::snmp::poll::{self, Walk};
use intake::snmp::usm::{Engine, LocalKeys, UserKeys, open_answer, seal};
use intake::snmp::{Oid, Pdu, PduKind, Value, VarBind, Version, decode, encode_community};
use model::check::{Outcome, Signal, Status};
use model::ifmib::{self, Limits, Snapshot};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// How a poller authenticates to agents, by the name checks use.
#[derive(Clone)]
pub enum Credential {
    V2c {
        community: String,
    },
    /// The user's keys, made once (1 MiB of hashing per passphrase).
    V3(Arc<UserKeys>),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::V2c { .. } => f.write_str("V2c { community: <redacted> }"),
            Credential::V3(k) => write!(f, "V3({})", k.name()),
        }
    }
}

/// What SNMP polling keeps between polls.
#[derive(Debug, Default)]
pub(crate) struct SnmpState {
    pub(crate) credentials: HashMap<String, Credential>,
    /// Each agent's engine and when its time was learnt, so its clock can be told.
    engines: Mutex<HashMap<SocketAddr, (Engine, Instant)>>,
    salt: AtomicU64,
    ids: AtomicI64,
}

impl SnmpState {
    pub(crate) fn new(credentials: HashMap<String, Credential>) -> SnmpState {
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        SnmpState {
            credentials,
            salt: AtomicU64::new(seed.as_nanos() as u64),
            ids: AtomicI64::new(i64::from(seed.subsec_nanos() % 1_000_000)),
            ..SnmpState::default()
        }
    }

    fn next_id(&self) -> i64 {
        // Request and message IDs are positive 31-bit integers.
        self.ids.fetch_add(1, Ordering::Relaxed) % 0x7fff_fff0 + 1
    }
}

/// What a poll is asked for.
pub(crate) struct PollSpec<'a> {
    pub credential: &'a str,
    pub port: u16,
    pub limits: Limits,
    pub interfaces: Option<regex::Regex>,
}

#[derive(Debug)]
enum PollError {
    /// No answer at all: the agent is down, unreachable, or refuses the community silently.
    Silent,
    /// The agent answered and said no.
    Refused(String),
    Broken(String),
}

/// How long one request waits for its answer before it is sent again.
const ATTEMPT: Duration = Duration::from_millis(1500);
const ATTEMPTS: u32 = 3;
/// Variables asked for per GetBulk: keeps answers under a typical 1,500-byte path's few
/// fragments while walking sixteen columns in a handful of round trips.
const BULK_BUDGET: usize = 48;

struct Session<'a> {
    state: &'a SnmpState,
    sock: UdpSocket,
    peer: SocketAddr,
    credential: &'a Credential,
    keys: LocalKeys,
}

impl Session<'_> {
    /// Sends a datagram until an answer `matches` recognises comes back (others, such as late
    /// answers to earlier attempts, are passed over).
    async fn exchange<T>(
        &self,
        datagram: &[u8],
        matches: impl Fn(&[u8]) -> Option<Result<T, PollError>>,
    ) -> Result<T, PollError> {
        let mut buf = vec![0u8; 65_536];
        for _ in 0..ATTEMPTS {
            self.sock.send(datagram).await.map_err(|e| PollError::Broken(format!("send: {e}")))?;
            let deadline = tokio::time::Instant::now() + ATTEMPT;
            loop {
                match tokio::time::timeout_at(deadline, self.sock.recv(&mut buf)).await {
                    Err(_) => break,
                    // ICMP port unreachable surfaces as an error on a connected socket.
                    Ok(Err(_)) => {
                        tokio::time::sleep_until(deadline).await;
                        break;
                    }
                    Ok(Ok(n)) => {
                        if let Some(r) = matches(&buf[..n]) {
                            return r;
                        }
                    }
                }
            }
        }
        Err(PollError::Silent)
    }

    /// Sends one request, returns its Response.
    async fn request(&mut self, mut pdu: Pdu) -> Result<Pdu, PollError> {
        match self.credential {
            Credential::V2c { community } => {
                let id = self.state.next_id();
                pdu.request_id = id;
                let datagram = encode_community(Version::V2c, community.as_bytes(), &pdu);
                self.exchange(&datagram, |bytes| {
                    let m = decode(bytes).ok()?;
                    let p = m.pdu.filter(|p| p.request_id == id && p.kind == PduKind::Response)?;
                    Some(Ok(p))
                })
                .await
            }
            Credential::V3(user) => {
                let mut resynchronised = false;
                loop {
                    let engine = self.engine(user).await?;
                    let id = self.state.next_id();
                    pdu.request_id = id;
                    let salt = self.state.salt.fetch_add(1, Ordering::Relaxed);
                    let datagram = seal(&self.keys, &engine, id, &pdu, salt);
                    let keys = self.keys.clone();
                    let unreadable = Mutex::new(None);
                    let answer = self
                        .exchange(&datagram, |bytes| {
                            // A datagram that fails authentication is not the agent's answer
                            // (a stray or forged one cannot end the poll); it only explains a
                            // silence if no answer follows.
                            let m = match open_answer(&keys, bytes) {
                                Ok(m) => m,
                                Err(e) => {
                                    *unreadable.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                                        Some(e.to_string());
                                    return None;
                                }
                            };
                            let h = m.v3.clone().unwrap_or_default();
                            if h.msg_id != id {
                                return None;
                            }
                            Some(Ok((m.pdu?, h)))
                        })
                        .await;
                    let unreadable = unreadable.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (p, h) = match (answer, unreadable) {
                        (Err(PollError::Silent), Some(why)) => return Err(PollError::Refused(why)),
                        (answer, _) => answer?,
                    };
                    if p.kind == PduKind::Report {
                        let (name, what) = poll::refusal(&p).unwrap_or(("report", "the agent refused the request"));
                        if matches!(name, "notInTimeWindow" | "unknownEngineID") && !resynchronised {
                            resynchronised = true;
                            let fresh = Engine { id: h.engine_id, boots: h.engine_boots, time: h.engine_time };
                            self.remember(user, fresh);
                            continue;
                        }
                        return Err(PollError::Refused(format!("{name}: {what}")));
                    }
                    return Ok(p);
                }
            }
        }
    }

    /// The agent's engine now: as last learnt (its time moved on by the time since), or
    /// discovered (RFC 3414 §4: a request with no user, answered by a Report that names it).
    async fn engine(&mut self, user: &UserKeys) -> Result<Engine, PollError> {
        let known = self.state.engines.lock().map(|e| e.get(&self.peer).cloned()).unwrap_or_default();
        if let Some((mut e, at)) = known {
            if self.keys.user.is_empty() {
                self.keys = user.localize(&e.id);
            }
            e.time += at.elapsed().as_secs() as i64;
            return Ok(e);
        }
        let id = self.state.next_id();
        let probe =
            Pdu { kind: PduKind::Get, request_id: id, error_status: 0, error_index: 0, varbinds: vec![], v1: None };
        let datagram = seal(&LocalKeys::default(), &Engine::default(), id, &probe, 0);
        let e = self
            .exchange(&datagram, |bytes| {
                let h = decode(bytes).ok()?.v3?;
                (h.msg_id == id && !h.engine_id.is_empty()).then_some(Ok(Engine {
                    id: h.engine_id,
                    boots: h.engine_boots,
                    time: h.engine_time,
                }))
            })
            .await?;
        self.remember(user, e.clone());
        Ok(e)
    }

    fn remember(&mut self, user: &UserKeys, e: Engine) {
        self.keys = user.localize(&e.id);
        if let Ok(mut engines) = self.state.engines.lock() {
            engines.insert(self.peer, (e, Instant::now()));
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Polls one device: sysUpTime and IF-MIB, judged against the previous poll.
pub(crate) async fn poll(state: &SnmpState, spec: &PollSpec<'_>, address: &str, before: Option<&Snapshot>) -> Outcome {
    let Some(credential) = state.credentials.get(spec.credential) else {
        return Outcome::new(
            Status::Unknown,
            format!("SNMP UNKNOWN - no credential `{}`: define it under [[intake.snmp_credentials]]", spec.credential),
            vec![],
            0.0,
        );
    };
    let Ok(ip) = address.parse::<IpAddr>() else {
        return Outcome::new(Status::Unknown, format!("SNMP UNKNOWN - `{address}` is not an IP address"), vec![], 0.0);
    };
    let peer = SocketAddr::new(ip, spec.port);
    let version = match credential {
        Credential::V2c { .. } => "v2c",
        Credential::V3(_) => "v3",
    };
    let local: SocketAddr = if ip.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let sock = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return Outcome::new(Status::Unknown, format!("SNMP UNKNOWN - no UDP socket: {e}"), vec![], 0.0),
    };
    if let Err(e) = sock.connect(peer).await {
        return Outcome::new(Status::Critical, format!("SNMP CRITICAL - {peer}: {e}"), vec![], 0.0);
    }
    let mut s = Session { state, sock, peer, credential, keys: LocalKeys::default() };
    match read_device(&mut s, spec).await {
        Ok(snapshot) => judged(before, snapshot, &spec.limits),
        Err(PollError::Silent) => Outcome::new(
            Status::Critical,
            format!("SNMP CRITICAL - no answer from {peer} ({version}) after {ATTEMPTS} attempts"),
            vec![],
            0.0,
        ),
        Err(PollError::Refused(why)) => {
            Outcome::new(Status::Unknown, format!("SNMP UNKNOWN - {peer} ({version}) refused: {why}"), vec![], 0.0)
        }
        Err(PollError::Broken(why)) => {
            Outcome::new(Status::Unknown, format!("SNMP UNKNOWN - {peer} ({version}): {why}"), vec![], 0.0)
        }
    }
}

async fn read_device(s: &mut Session<'_>, spec: &PollSpec<'_>) -> Result<Snapshot, PollError> {
    let uptime_oid = Oid::parse(poll::SYS_UPTIME).unwrap_or_default();
    let get = Pdu {
        kind: PduKind::Get,
        request_id: 0,
        error_status: 0,
        error_index: 0,
        varbinds: vec![VarBind { oid: uptime_oid, value: Value::Null }],
        v1: None,
    };
    let answer = s.request(get).await?;
    let uptime_cs = match answer.varbinds.first().map(|v| &v.value) {
        Some(Value::TimeTicks(t)) => *t,
        other => return Err(PollError::Broken(format!("sysUpTime.0 is {other:?}, not TimeTicks"))),
    };
    let at_ms = now_ms();
    let mut walk = Walk::new(&poll::if_columns());
    while let Some(req) = walk.request(0, BULK_BUDGET) {
        let answer = s.request(req).await?;
        walk.absorb(&answer).map_err(|e| PollError::Broken(e.to_string()))?;
    }
    let mut interfaces = poll::interfaces(&walk.into_varbinds());
    if let Some(re) = &spec.interfaces {
        interfaces.retain(|i| re.is_match(&i.name));
    }
    Ok(Snapshot { at_ms, uptime_cs, interfaces })
}

/// Judges a poll against the one before it, if any, and says what changed; the poll is the
/// next one's baseline.
fn judged(before: Option<&Snapshot>, now: Snapshot, limits: &Limits) -> Outcome {
    let cmp = before.map(|b| ifmib::compare(b, &now));
    let (status, text, perf) = ifmib::judge(&now, cmp.as_ref(), limits);
    let mut o = Outcome::new(status, text, perf, 0.0);
    let uptime_cs = now.uptime_cs;
    o.baseline = Some(now);
    let Some(cmp) = cmp else { return o };
    if cmp.restarted {
        o.signals.push(Signal {
            kind: "device.restart".into(),
            object: String::new(),
            up: None,
            severity: 4,
            mnemonic: "SNMP-RESTART".into(),
            text: format!("The SNMP agent restarted: sysUpTime {}", ifmib::uptime_text(uptime_cs)),
        });
    }
    for c in &cmp.changes {
        let named = if c.alias.is_empty() { c.name.clone() } else { format!("{} ({})", c.name, c.alias) };
        let (up, severity, mnemonic, text) = match (c.up, c.admin_down) {
            (_, true) => (true, 5, "IF-MIB-ADMINDOWN", format!("Interface {named} was shut down (admin down)")),
            (true, false) => (true, 5, "IF-MIB-LINKUP", format!("Interface {named} is up")),
            (false, false) => {
                (false, 3, "IF-MIB-LINKDOWN", format!("Interface {named} is down (oper {})", c.oper.as_str()))
            }
        };
        o.signals.push(Signal {
            kind: "interface".into(),
            object: c.name.clone(),
            up: Some(up),
            severity,
            mnemonic: mnemonic.into(),
            text,
        });
    }
    o
}
