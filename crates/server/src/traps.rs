//! The SNMP notification listener: one UDP socket taking v1 and v2c traps (by community),
//! v2c informs (answered), v3 traps (USM: authenticated and decrypted per user, at the
//! sender's engine) and v3 informs (at this receiver's own engine: discovery and time-window
//! Reports answered as RFC 3414 has them, the inform acknowledged under the sender's user).
//! What does not read, or is not allowed, is counted and dropped without touching the rest;
//! events go to the same batching store the syslog listeners use.

use crate::state::AppState;
use intake::snmp::usm::{self, LocalEngine, Usm};
use intake::snmp::{self, FLAG_REPORTABLE, PduKind, Version};
use model::event::Event;
use std::net::SocketAddr;
use tokio::sync::mpsc;

/// Events waiting between the listener and the database.
const QUEUE: usize = 50_000;

/// Binds the listener and starts it with its storing task.
pub async fn start(state: AppState, addr: SocketAddr) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
    let socket = tokio::net::UdpSocket::bind(addr).await?;
    tracing::info!(addr = %socket.local_addr()?, "SNMP notifications received on UDP.");
    let (tx, rx) = mpsc::channel::<Event>(QUEUE);
    let settings = state.app.settings().clone();
    // Keys are made from passphrases once (1 MiB of hashing each): off the async threads.
    let usm =
        tokio::task::spawn_blocking(move || Usm::new(settings.snmp_users)).await.map_err(std::io::Error::other)?;
    Ok(vec![
        tokio::spawn(crate::syslog::store(state.clone(), rx, "snmp")),
        tokio::spawn(receive(state, socket, usm, tx)),
    ])
}

/// This host's name, for the engine ID informs are sent to.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

async fn receive(state: AppState, socket: tokio::net::UdpSocket, mut usm: Usm, tx: mpsc::Sender<Event>) {
    let mut buf = vec![0u8; 65_536];
    let settings = state.app.settings().clone();
    let started = std::time::Instant::now();
    let engine = LocalEngine::for_host(&host_name(), jiff::Timestamp::now().as_second());
    let uptime = || i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX);
    // The USM counters Reports carry, and the salt of encrypted answers (never repeated).
    let (mut unknown_engines, mut untimely) = (0u32, 0u32);
    let mut salt = jiff::Timestamp::now().as_nanosecond().unsigned_abs() as u64;
    loop {
        let (n, sender) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "SNMP receive failed.");
                continue;
            }
        };
        let datagram = &buf[..n];
        let mut m = match snmp::decode(datagram) {
            Ok(m) => m,
            Err(e) => {
                state.metrics.intake("snmp", "unreadable", 1);
                tracing::debug!(error = %e, %sender, "An SNMP datagram did not read.");
                continue;
            }
        };
        let user = match m.version {
            Version::V1 | Version::V2c => {
                if !settings.snmp_communities.iter().any(|c| c.as_bytes() == m.community) {
                    // As net-snmp does: a wrong community is dropped without an answer.
                    state.metrics.intake("snmp", "refused", 1);
                    tracing::debug!(%sender, "An SNMP notification with an unknown community was dropped.");
                    continue;
                }
                None
            }
            Version::V3 if m.v3.as_ref().is_some_and(|h| h.engine_id.is_empty()) => {
                // Discovery (RFC 3414 §4): a sender about to inform asks for this engine.
                let h = m.v3.clone().unwrap_or_default();
                if h.flags & FLAG_REPORTABLE != 0 {
                    unknown_engines = unknown_engines.wrapping_add(1);
                    let request = m.pdu.as_ref().map_or(0, |p| p.request_id);
                    let keys = usm::LocalKeys::default();
                    let report = usm::report(
                        &keys,
                        &engine.at(uptime()),
                        h.msg_id,
                        request,
                        usm::UNKNOWN_ENGINE_IDS,
                        unknown_engines,
                    );
                    if let Err(e) = socket.send_to(&report, sender).await {
                        tracing::debug!(error = %e, %sender, "An SNMP discovery could not be answered.");
                    }
                }
                continue;
            }
            Version::V3 => match usm.open(datagram, &mut m) {
                Ok(u) => Some(u),
                Err(e) => {
                    state.metrics.intake("snmp", "refused", 1);
                    tracing::info!(error = %e, %sender, "An SNMPv3 notification was refused.");
                    continue;
                }
            },
        };
        if let Some(p) = m.pdu.as_ref().filter(|p| p.kind == PduKind::Inform) {
            let answer = if let Some(h) = m.v3.as_ref() {
                // An inform is authoritative here: sent to this engine, within its time window.
                let keys = usm.local_keys(&h.user, &engine.id);
                let (Some(keys), true) = (keys, h.engine_id == engine.id) else {
                    state.metrics.intake("snmp", "refused", 1);
                    tracing::info!(%sender, "An SNMPv3 inform named another engine than this receiver's; dropped.");
                    continue;
                };
                let now = engine.at(uptime());
                if !engine.in_time_window(h, now.time) {
                    untimely = untimely.wrapping_add(1);
                    let report = usm::report(
                        &keys.without_privacy(),
                        &now,
                        h.msg_id,
                        p.request_id,
                        usm::NOT_IN_TIME_WINDOWS,
                        untimely,
                    );
                    let _ = socket.send_to(&report, sender).await;
                    state.metrics.intake("snmp", "refused", 1);
                    continue;
                }
                salt = salt.wrapping_add(1);
                let context = (h.context_engine_id.as_slice(), h.context_name.as_slice());
                usm::seal_in_context(&keys, &now, h.msg_id, &snmp::inform_response(p), salt, context)
            } else {
                snmp::encode_community(m.version, &m.community, &snmp::inform_response(p))
            };
            if let Err(e) = socket.send_to(&answer, sender).await {
                tracing::debug!(error = %e, %sender, "An SNMP inform could not be answered.");
            }
        }
        let now = jiff::Timestamp::now().as_millisecond();
        match snmp::trap::event(&m, &sender.ip().to_string(), user.as_deref(), &settings.snmp_rules, now) {
            Some(event) => {
                if tx.try_send(event).is_err() {
                    state.metrics.intake("snmp", "dropped", 1);
                }
            }
            None => {
                state.metrics.intake("snmp", "unreadable", 1);
                tracing::debug!(%sender, "An SNMP message that is not a notification was dropped.");
            }
        }
    }
}
