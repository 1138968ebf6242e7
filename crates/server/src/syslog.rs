//! The syslog listeners: UDP (a message per datagram, RFC 5426) and TCP (RFC 6587 framing,
//! octet counting or line feeds). Messages are parsed and classified as they arrive
//! (`intake`), then handed to one batching task that stores them through the group-commit
//! writer, so a listener never waits on the database: UDP drops (and counts) only when the
//! hand-over queue is full, TCP slows its sender instead and loses nothing.

use crate::state::AppState;
use app::Actor;
use model::event::Event;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// Events waiting between the listeners and the database.
const QUEUE: usize = 200_000;
/// Events one store call takes at most.
const BATCH: usize = 5_000;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Reads one message into an event, or counts it as unreadable.
fn decode(state: &AppState, bytes: &[u8], sender: &SocketAddr) -> Option<Event> {
    match intake::syslog::parse(bytes, now_ms(), &jiff::tz::TimeZone::UTC) {
        Ok(m) => Some(intake::classify::event(&m, &sender.ip().to_string(), now_ms())),
        Err(e) => {
            state.metrics.intake("syslog", "unreadable", 1);
            tracing::debug!(error = %e, %sender, "A syslog message did not read.");
            None
        }
    }
}

/// Starts the configured listeners and the task that stores what they receive.
pub async fn start(
    state: AppState,
    udp: Option<SocketAddr>,
    tcp: Option<SocketAddr>,
) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    if udp.is_none() && tcp.is_none() {
        return Ok(tasks);
    }
    let (tx, rx) = mpsc::channel::<Event>(QUEUE);
    tasks.push(tokio::spawn(store(state.clone(), rx)));
    if let Some(addr) = udp {
        let socket = tokio::net::UdpSocket::bind(addr).await?;
        tracing::info!(addr = %socket.local_addr()?, "Syslog listening on UDP.");
        tasks.push(tokio::spawn(receive_udp(state.clone(), socket, tx.clone())));
    }
    if let Some(addr) = tcp {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Syslog listening on TCP.");
        tasks.push(tokio::spawn(accept_tcp(state.clone(), listener, tx)));
    }
    Ok(tasks)
}

async fn store(state: AppState, mut rx: mpsc::Receiver<Event>) {
    let system = Actor::system();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let n = batch.len();
        match state.app.record_events(&system, std::mem::take(&mut batch)).await {
            Ok(_) => state.metrics.intake("syslog", "stored", n),
            Err(e) => {
                state.metrics.intake("syslog", "lost", n);
                tracing::error!(error = %e, events = n, "Syslog events could not be stored.");
                // The database is away: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn receive_udp(state: AppState, socket: tokio::net::UdpSocket, tx: mpsc::Sender<Event>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, sender) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "Syslog UDP receive failed.");
                continue;
            }
        };
        if let Some(event) = decode(&state, &buf[..n], &sender)
            && tx.try_send(event).is_err()
        {
            state.metrics.intake("syslog", "dropped", 1);
        }
    }
}

async fn accept_tcp(state: AppState, listener: tokio::net::TcpListener, tx: mpsc::Sender<Event>) {
    loop {
        match listener.accept().await {
            Ok((stream, sender)) => {
                tokio::spawn(receive_tcp(state.clone(), stream, sender, tx.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "Syslog TCP accept failed."),
        }
    }
}

async fn receive_tcp(state: AppState, mut stream: tokio::net::TcpStream, sender: SocketAddr, tx: mpsc::Sender<Event>) {
    let mut framer = intake::syslog::Framer::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(&buf[..n]);
        while let Some(frame) = framer.next_frame() {
            match frame {
                intake::syslog::Frame::Message(m) => {
                    if let Some(event) = decode(&state, &m, &sender)
                        && tx.send(event).await.is_err()
                    {
                        return;
                    }
                }
                intake::syslog::Frame::Bad(why) => {
                    state.metrics.intake("syslog", "unreadable", 1);
                    tracing::debug!(%sender, why, "A syslog frame was dropped.");
                }
            }
        }
    }
    if let Some(last) = framer.finish()
        && let Some(event) = decode(&state, &last, &sender)
    {
        let _ = tx.send(event).await;
    }
}
