//! One server per database. `watchkeeper serve` claims its database for as long as it runs,
//! so that a second server started by mistake on the same data directory or PostgreSQL
//! database refuses to start, instead of folding the same alert log, running the same checks
//! and paging the same people twice. The CLI's other commands work beside a server and claim
//! nothing.
//!
//! The claim is one the operating system or PostgreSQL releases when the holder dies, however
//! it dies (a lock on a file beside the database; a session-level advisory lock), so a server
//! killed with SIGKILL never leaves a stale claim behind.

use crate::{Location, Pool, Result, Store, StoreError};
use std::io::Write;

/// Held while a server runs; dropping it gives the database up.
#[derive(Debug)]
pub struct ServerClaim {
    _held: Held,
}

#[derive(Debug)]
#[expect(dead_code, reason = "held, never read: the lock lasts as long as the file or the session")]
enum Held {
    File(std::fs::File),
    Postgres(sqlx::PgConnection),
}

/// The lock file, in the data directory beside the database.
pub const LOCK_FILE: &str = "watchkeeper.server.lock";

/// How often a server asks PostgreSQL for the claim, 100 ms apart, before refusing to start.
const CLAIM_ATTEMPTS: u32 = 50;

/// The advisory lock's key on PostgreSQL: "WKSERVER" in ASCII.
const ADVISORY_KEY: i64 = 0x574B_5345_5256_4552;

impl Store {
    /// Claims the database for this process's server; fails with [`StoreError::InUse`],
    /// naming the holder, when another server has it.
    pub async fn claim_server(&self, location: &Location) -> Result<ServerClaim> {
        match (location, self.pool()) {
            (Location::Postgres(_), Pool::Postgres(p)) => {
                let mut conn = p.acquire().await?.detach();
                // A server that was just killed holds its lock until PostgreSQL notices its
                // session ended, a moment later: ask again for a few seconds before refusing.
                for attempt in 0..CLAIM_ATTEMPTS {
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(ADVISORY_KEY)
                        .fetch_one(&mut conn)
                        .await?;
                    if got {
                        return Ok(ServerClaim { _held: Held::Postgres(conn) });
                    }
                    if attempt + 1 < CLAIM_ATTEMPTS {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
                // A bigint key is shown split: its high half as classid, its low half as objid.
                const HOLDER: &str = "SELECT a.pid, COALESCE(host(a.client_addr), 'a local socket') \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     AND l.classid::bigint = $1 AND l.objid::bigint = $2";
                let holder: Option<(i32, String)> = sqlx::query_as(HOLDER)
                    .bind(ADVISORY_KEY >> 32)
                    .bind(ADVISORY_KEY & 0xFFFF_FFFF)
                    .fetch_optional(&mut conn)
                    .await
                    .ok()
                    .flatten();
                let who = holder
                    .map(|(pid, from)| format!(" (its PostgreSQL session: backend pid {pid}, from {from})"))
                    .unwrap_or_default();
                Err(StoreError::InUse(format!(
                    "another Watchkeeper server is already serving this database{who}; stop it first, \
                     or point this one at a database of its own"
                )))
            }
            (Location::DataDir(dir), _) => {
                let path = dir.join(LOCK_FILE);
                let io = |e: std::io::Error| StoreError::InUse(format!("cannot lock {}: {e}", path.display()));
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(io)?;
                match file.try_lock() {
                    Ok(()) => {
                        // The holder's pid, for the message a second server gives.
                        file.set_len(0).map_err(io)?;
                        writeln!(file, "{}", std::process::id()).map_err(io)?;
                        Ok(ServerClaim { _held: Held::File(file) })
                    }
                    Err(std::fs::TryLockError::WouldBlock) => {
                        let pid = std::fs::read_to_string(&path).unwrap_or_default();
                        let pid = pid.trim();
                        let who = if pid.is_empty() { String::new() } else { format!(" (pid {pid})") };
                        Err(StoreError::InUse(format!(
                            "another Watchkeeper server{who} is already serving {}; stop it first, or give this \
                             one a data directory of its own (--data-dir)",
                            dir.display()
                        )))
                    }
                    Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
                }
            }
            (Location::Postgres(_), Pool::Sqlite(_)) => {
                Err(StoreError::Unsupported("the store's pool does not match its location".into()))
            }
        }
    }
}
