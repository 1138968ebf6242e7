//! The SNMP notification listener: one UDP socket taking v1 and v2c traps (by community),
//! v2c informs (answered), and v3 traps (USM: authenticated and decrypted per user). What
//! does not read, or is not allowed, is counted and dropped without touching the rest; events
//! go to the same batching store the syslog listeners use.

use crate::state::AppState;
use intake::snmp::usm::Usm;
use intake::snmp::{self, PduKind, Version};
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

async fn receive(state: AppState, socket: tokio::net::UdpSocket, mut usm: Usm, tx: mpsc::Sender<Event>) {
    let mut buf = vec![0u8; 65_536];
    let settings = state.app.settings().clone();
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
            if m.version == Version::V3 {
                // Answering a v3 inform takes the receiver's own engine (discovery, keys
                // localized to it); not yet: the sender will retry and give up.
                state.metrics.intake("snmp", "refused", 1);
                continue;
            }
            let answer = snmp::encode_community(m.version, &m.community, &snmp::inform_response(p));
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
