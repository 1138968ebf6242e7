//! Watchkeeper's persistence: one [`Store`] over SQLite (embedded, the default) or
//! PostgreSQL, and the migrations for both. This is the only crate that contains SQL.
//!
//! Both backends run the same SQL text (portable subset, `$n` placeholders, instants as epoch
//! milliseconds); the [`on!`] macro expands a query once per backend so each is type-checked
//! against its own driver. Writes happen in a [`Tx`], which the `app` crate opens, fills with
//! the change *and* its audit record, and commits: a change is never stored without its
//! audit record, nor the other way round.

mod alarms;
mod alerts;
mod attributes;
mod audit;
mod backup;
mod bulk;
mod checks;
mod claim;
mod cmdb;
mod configs;
mod events;
mod filters;
mod incidents;
mod kpis;
mod maintenance;
mod major;
mod notifications;
mod problems;
mod relations;
mod sessions;
mod slas;
mod sql;
mod suppliers;
mod tokens;
mod users;

pub use alarms::{AlarmFilter, AlarmRow, FedIncident};
pub use alerts::{LogWriter, SilenceRow, SnapshotChunk};
pub use attributes::AttributeRow;
pub use audit::{AUDIT_LIST, AuditPage};
pub use bulk::InsertedItem;
pub use checks::{CheckRow, CheckStateRow, ROLLUP_MS, SampleRollup};
pub use claim::{LOCK_FILE, ServerClaim};
pub use cmdb::{ITEM_LIST, ItemRow, ItemVersion, ItemWrite, NewSite, SITE_LIST, SiteRow};
pub use configs::{ConfigMeta, ConfigRow, NewConfig};
pub use events::{EventBatch, EventFilter, EventRow};
pub use filters::SavedFilterRow;
pub use incidents::{
    AttachmentMeta, CalendarRow, ImportedIncident, IncidentRow, JournalEntry, JournalRow, MatrixRow, NewIncident,
    PriorityWrite, QueueFilter, StateWrite, TimelineRow, search_terms,
};
pub use kpis::{COUNTERS, RollupRow};
pub use maintenance::WindowRow;
pub use major::{MajorRow, NewMajor, ReviewRow, UpdateRow};
pub use notifications::{AttemptResult, AttemptRow, ChannelRow, NewNotification, NotificationRow, PageRow, Specs};
pub use problems::{ActionRow, AnalysisWrite, ImportedProblem, ProblemRow, RefTable};
pub use relations::{GraphEdges, GroupRow, RelationshipChange, RelationshipRow, Removing, Target};
pub use sessions::SessionRow;
pub use slas::{IncidentServiceRow, IncidentSlaRow, SlaPolicyRow};
pub use suppliers::{BaselineRow, ContractRow, VendorRow};
pub use tokens::TokenRow;
pub use users::{USER_LIST, UserRecord};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The file name of the embedded database inside a data directory.
pub const SQLITE_FILE: &str = "watchkeeper.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("changed by someone else since it was read")]
    Stale,
    #[error("{what} already exists")]
    Conflict { what: String },
    #[error(
        "the database schema is at version {found}, newer than this Watchkeeper knows (up to {known}); \
         run the Watchkeeper release that last migrated it, or restore a backup taken before the upgrade"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("cannot open the database at {location}: {source}")]
    Open { location: String, source: sqlx::Error },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Unsupported(String),
    /// Another server holds the database (see [`Store::claim_server`]).
    #[error("{0}")]
    InUse(String),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict { what: d.table().unwrap_or("record").to_owned() }
            }
            e => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the data lives, as the operator said it.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// Embedded SQLite: `<dir>/watchkeeper.db`.
    DataDir(PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

impl Location {
    /// The location for logs and messages: the password in a URL is hidden.
    pub fn redacted(&self) -> String {
        match self {
            Location::DataDir(d) => d.join(SQLITE_FILE).display().to_string(),
            Location::Postgres(url) => redact_url(url),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Hides the password in `scheme://user:password@host/...`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Expands `$body` once per backend with `$c` bound to that backend's pool or transaction.
macro_rules! on {
    ($e:expr, $c:ident => $body:expr) => {
        match $e {
            $crate::Pool::Sqlite($c) => $body,
            $crate::Pool::Postgres($c) => $body,
        }
    };
}
macro_rules! on_tx {
    ($e:expr, $c:ident => $body:expr) => {
        match $e {
            $crate::Tx::Sqlite($c) => $body,
            $crate::Tx::Postgres($c) => $body,
        }
    };
}
pub(crate) use {on, on_tx};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The handle every use-case gets: cheap to clone, safe to share.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens (creating if needed) the database, refusing one whose schema is newer than
    /// this build knows, and runs pending migrations.
    pub async fn open(location: &Location) -> Result<Store> {
        let store = Self::connect(location).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without migrating; for tests and tools that inspect a database as it is.
    pub async fn connect(location: &Location) -> Result<Store> {
        let open_err = |source| StoreError::Open { location: location.redacted(), source };
        let pool = match location {
            Location::DataDir(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
                let opts = SqliteConnectOptions::new()
                    .filename(dir.join(SQLITE_FILE))
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: an acknowledged write survives power loss, not only a crash.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    // 16 MiB of pages kept per connection (SQLite's default is 2 MiB): the
                    // intake tables' indexes are touched on every insert, and re-reading them
                    // costs a read call each. (Mapping the file instead made every commit pay
                    // for remapping it as it grew.)
                    .pragma("cache_size", "-16384")
                    .busy_timeout(Duration::from_secs(10));
                // A file has no peer that could hang up, so a connection taken from the pool is
                // not pinged first: the ping is one more round trip to the connection's thread
                // before every statement run on the pool.
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await
                    .map_err(open_err)?;
                Pool::Sqlite(pool)
            }
            Location::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url).map_err(open_err)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(open_err)?;
                Pool::Postgres(pool)
            }
        };
        Ok(Store { pool })
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATOR,
            Pool::Postgres(_) => &POSTGRES_MIGRATOR,
        }
    }

    /// The newest migration this build knows.
    pub fn known_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest migration applied to the database, 0 for an empty one.
    pub async fn schema_version(&self) -> Result<i64> {
        let exists: bool = on!(&self.pool, p => {
            let sql = match self.pool {
                Pool::Sqlite(_) => "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = '_sqlx_migrations'",
                Pool::Postgres(_) => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            };
            sqlx::query_scalar(sql).fetch_one(p).await?
        });
        if !exists {
            return Ok(0);
        }
        let v: Option<i64> = on!(&self.pool, p => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(p)
                .await?
        });
        Ok(v.unwrap_or(0))
    }

    pub async fn migrate(&self) -> Result<()> {
        let found = self.schema_version().await?;
        let known = self.known_schema_version();
        if found > known {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATOR.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    /// Begins a write transaction. SQLite takes its write lock at once (`BEGIN IMMEDIATE`),
    /// so a transaction that reads before it writes never fails to upgrade its lock when a
    /// CLI command and the server write at the same moment; it waits (busy timeout) instead.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Begins a read-only transaction whose queries all see one snapshot, for reads that
    /// must agree with each other (the whole CMDB graph) while writers carry on.
    pub async fn read_tx(&self) -> Result<Tx> {
        Ok(match &self.pool {
            // Deferred: in WAL mode the first read fixes the snapshot and takes no write lock.
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN DEFERRED").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?),
        })
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<()> {
        on!(&self.pool, p => sqlx::query("SELECT 1").execute(p).await?.rows_affected());
        Ok(())
    }

    /// Connections open and idle, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        on!(&self.pool, p => (p.size(), p.num_idle()))
    }

    pub async fn close(&self) {
        on!(&self.pool, p => p.close().await)
    }

    /// The data directory's database file, when embedded.
    pub fn sqlite_path(location: &Location) -> Option<PathBuf> {
        match location {
            Location::DataDir(d) => Some(Path::new(d).join(SQLITE_FILE)),
            Location::Postgres(_) => None,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        on_tx!(self, t => t.commit().await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("postgres://wk:s3cret@db:5432/wk"), "postgres://wk:***@db:5432/wk");
        assert_eq!(redact_url("postgres://db/wk"), "postgres://db/wk");
    }
}
