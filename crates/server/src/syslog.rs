//! The syslog listeners: UDP (a message per datagram, RFC 5426), TCP (RFC 6587 framing,
//! octet counting or line feeds) and TLS (RFC 5425, with the server's certificate). Messages are parsed and classified as they arrive
//! (`intake`), then handed to one batching task that stores them through the group-commit
//! writer, so a listener never waits on the database: UDP drops (and counts) only when the
//! hand-over queue is full, TCP slows its sender instead and loses nothing. TCP and TLS
//! connections are bounded in number, closed after a silence, and probed by TCP keepalive so
//! that a sender that vanished without a word does not hold its connection forever.

use crate::state::AppState;
use app::Actor;
use model::event::Event;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
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
    let now = now_ms();
    match intake::syslog::parse(bytes, now, &jiff::tz::TimeZone::UTC) {
        Ok(m) => Some(intake::classify::event(&m, &sender.ip().to_string(), now)),
        Err(e) => {
            state.metrics.intake("syslog", "unreadable", 1);
            tracing::debug!(error = %e, %sender, "A syslog message did not read.");
            None
        }
    }
}

/// Where to listen.
#[derive(Debug, Clone)]
pub struct Listeners {
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    /// TLS on this address, with this certificate and key.
    pub tls: Option<(SocketAddr, crate::Tls)>,
    pub limits: TcpLimits,
}

/// Bounds on the TCP and TLS connections, all senders together (defaults in `app::Settings`).
#[derive(Debug, Clone)]
pub struct TcpLimits {
    /// Connections open at once, TCP and TLS together; one more is closed as it comes.
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle: Option<Duration>,
}

/// Keepalive probes on an accepted connection: a peer gone without closing (powered off, a
/// firewall that forgot the flow) is noticed after about four minutes.
fn keep_alive(stream: &tokio::net::TcpStream) {
    let probes = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(120))
        .with_interval(Duration::from_secs(30))
        .with_retries(4);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&probes) {
        tracing::debug!(error = %e, "Keepalive could not be set on a syslog connection.");
    }
}

/// The server side of RFC 5425: the certificate and key from PEM files.
fn tls_acceptor(tls: &crate::Tls) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| bad(format!("{}: {e}", tls.cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("{}: {e}", tls.cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| bad(format!("{}: {e}", tls.key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Starts the configured listeners and the task that stores what they receive.
pub async fn start(state: AppState, at: Listeners) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
    let Listeners { udp, tcp, tls, limits } = at;
    let open = Connections::new(limits);
    let mut tasks = Vec::new();
    if udp.is_none() && tcp.is_none() && tls.is_none() {
        return Ok(tasks);
    }
    let (tx, rx) = mpsc::channel::<Event>(QUEUE);
    tasks.push(tokio::spawn(store(state.clone(), rx, "syslog")));
    if let Some(addr) = udp {
        let socket = tokio::net::UdpSocket::bind(addr).await?;
        tracing::info!(addr = %socket.local_addr()?, "Syslog listening on UDP.");
        tasks.push(tokio::spawn(receive_udp(state.clone(), socket, tx.clone())));
    }
    if let Some(addr) = tcp {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Syslog listening on TCP.");
        tasks.push(tokio::spawn(accept_tcp(state.clone(), listener, None, open.clone(), tx.clone())));
    }
    if let Some((addr, material)) = tls {
        let acceptor = tls_acceptor(&material)?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Syslog listening on TLS.");
        tasks.push(tokio::spawn(accept_tcp(state.clone(), listener, Some(acceptor), open, tx)));
    }
    Ok(tasks)
}

/// Stores what a listener decoded, a batch at a time, counting each event under `decoder`.
/// Batches are handed to the writer in order; while one is written the next is made ready
/// (tied to items, serialized), at most two waiting on their commit.
pub(crate) async fn store(state: AppState, mut rx: mpsc::Receiver<Event>, decoder: &'static str) {
    let mut in_hand = tokio::task::JoinSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if in_hand.len() >= 2
            && let Some(done) = in_hand.join_next().await
        {
            stored(&state, decoder, done).await;
        }
        let n = batch.len();
        let queued = state.app.queue_events(&Actor::system(), std::mem::take(&mut batch)).await;
        in_hand.spawn(async move {
            let committed = match queued {
                Ok(c) => c.wait().await.map(|()| n),
                Err(e) => Err(e),
            };
            (n, committed)
        });
    }
    while let Some(done) = in_hand.join_next().await {
        stored(&state, decoder, done).await;
    }
}

async fn stored(
    state: &AppState,
    decoder: &'static str,
    done: Result<(usize, app::Result<usize>), tokio::task::JoinError>,
) {
    match done {
        Ok((n, Ok(_))) => state.metrics.intake(decoder, "stored", n),
        Ok((n, Err(e))) => {
            state.metrics.intake(decoder, "lost", n);
            tracing::error!(error = %e, events = n, decoder, "Received events could not be stored.");
            // The database is away: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(e) => tracing::error!(error = %e, decoder, "A batch of received events was abandoned."),
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

/// The TCP and TLS connections open, shared by both listeners.
#[derive(Clone)]
struct Connections {
    slots: Arc<tokio::sync::Semaphore>,
    idle: Option<Duration>,
    /// When a refusal was last logged (Unix seconds): a flood is logged once a minute.
    warned_at: Arc<std::sync::atomic::AtomicI64>,
}

impl Connections {
    fn new(limits: TcpLimits) -> Self {
        Connections {
            slots: Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1))),
            idle: limits.idle,
            warned_at: Arc::default(),
        }
    }

    /// A slot for a new connection, or `None` (counted, and logged at most once a minute)
    /// when all are taken.
    fn take(&self, state: &AppState, sender: SocketAddr) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slot = self.slots.clone().try_acquire_owned().ok();
        if slot.is_none() {
            state.metrics.syslog_connection("refused");
            let now = now_ms() / 1000;
            let last = self.warned_at.load(std::sync::atomic::Ordering::Relaxed);
            if now - last >= 60
                && self
                    .warned_at
                    .compare_exchange(
                        last,
                        now,
                        std::sync::atomic::Ordering::Relaxed,
                        std::sync::atomic::Ordering::Relaxed,
                    )
                    .is_ok()
            {
                tracing::warn!(%sender, "Syslog connection refused: all allowed connections are open (intake.syslog_max_connections).");
            }
        }
        slot
    }
}

async fn accept_tcp(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    open: Connections,
    tx: mpsc::Sender<Event>,
) {
    loop {
        let (stream, sender) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "Syslog TCP accept failed.");
                continue;
            }
        };
        // Closed at once rather than left in the backlog: the sender sees it and retries later.
        let Some(slot) = open.take(&state, sender) else { continue };
        state.metrics.syslog_connection("accepted");
        keep_alive(&stream);
        let (state, tx, idle) = (state.clone(), tx.clone(), open.idle);
        match &tls {
            None => {
                tokio::spawn(async move {
                    receive_tcp(state, stream, sender, idle, tx).await;
                    drop(slot);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A handshake that does not finish in ten seconds is dropped.
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => receive_tcp(state, tls_stream, sender, idle, tx).await,
                        Ok(Err(e)) => tracing::info!(error = %e, %sender, "A syslog TLS handshake failed."),
                        Err(_) => tracing::info!(%sender, "A syslog TLS handshake timed out."),
                    }
                    drop(slot);
                });
            }
        }
    }
}

async fn receive_tcp(
    state: AppState,
    mut stream: impl AsyncRead + Unpin,
    sender: SocketAddr,
    idle: Option<Duration>,
    tx: mpsc::Sender<Event>,
) {
    let mut framer = intake::syslog::Framer::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = match idle {
            Some(idle) => match tokio::time::timeout(idle, stream.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => {
                    state.metrics.syslog_connection("closed_idle");
                    tracing::debug!(%sender, "A silent syslog connection was closed.");
                    break;
                }
            },
            None => stream.read(&mut buf).await,
        };
        let n = match read {
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
