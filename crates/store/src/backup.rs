//! Online backup and restore of the embedded database. PostgreSQL deployments use
//! `pg_dump`/`pg_restore`, which do the same job better than we could.

use crate::{Pool, Result, Store, StoreError};
use sqlx::AssertSqlSafe;
use std::path::Path;

fn sqlite_only(what: &str) -> StoreError {
    StoreError::Unsupported(format!(
        "{what} works on the embedded SQLite database; for PostgreSQL use \
         `pg_dump --format=custom --file=FILE DBNAME` and `pg_restore --clean --dbname=DBNAME FILE`"
    ))
}

fn sql_string(path: &Path) -> Result<String> {
    let s = path.to_str().ok_or_else(|| StoreError::Unsupported("the backup path is not valid UTF-8".into()))?;
    Ok(format!("'{}'", s.replace('\'', "''")))
}

impl Store {
    /// Writes a consistent copy of the live database to `dest` (which must not exist).
    /// `VACUUM INTO` reads one snapshot, so writers carry on while it runs.
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let Pool::Sqlite(p) = self.pool() else { return Err(sqlite_only("backup")) };
        if dest.exists() {
            return Err(StoreError::Unsupported(format!(
                "{} already exists; choose a new file name so no earlier backup is overwritten",
                dest.display()
            )));
        }
        sqlx::query(AssertSqlSafe(format!("VACUUM INTO {}", sql_string(dest)?))).execute(p).await?;
        Ok(())
    }

    /// Replaces every table's contents with the backup's, in one transaction, so a running
    /// server sees either the old data or the restored data, never a mix. The backup must be
    /// at this build's schema version.
    pub async fn restore_from(&self, src: &Path) -> Result<u64> {
        let Pool::Sqlite(p) = self.pool() else { return Err(sqlite_only("restore")) };
        if !src.is_file() {
            return Err(StoreError::Unsupported(format!("{} is not a file", src.display())));
        }
        let mut conn = p.acquire().await?;
        sqlx::query(AssertSqlSafe(format!("ATTACH DATABASE {} AS bk", sql_string(src)?))).execute(&mut *conn).await?;
        let result = async {
            let ok: String = sqlx::query_scalar("PRAGMA bk.integrity_check").fetch_one(&mut *conn).await?;
            if ok != "ok" {
                return Err(StoreError::Unsupported(format!("the backup is damaged: {ok}")));
            }
            let theirs: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM bk._sqlx_migrations")
                .fetch_one(&mut *conn)
                .await
                .map_err(|_| StoreError::Unsupported("the file is not a Watchkeeper backup".into()))?;
            let ours: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM main._sqlx_migrations").fetch_one(&mut *conn).await?;
            if theirs != ours {
                return Err(StoreError::Unsupported(format!(
                    "the backup is at schema version {}, this database at {}; restore it with the matching Watchkeeper release",
                    theirs.unwrap_or(0),
                    ours.unwrap_or(0)
                )));
            }
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> '_sqlx_migrations' AND name NOT LIKE 'incidents_fts%' AND name NOT LIKE 'events_fts%' \
                 ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await?;
            sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            let mut rows = 0;
            let copy = async {
                for t in &tables {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM main.\"{t}\""))).execute(&mut *conn).await?;
                    rows += sqlx::query(AssertSqlSafe(format!("INSERT INTO main.\"{t}\" SELECT * FROM bk.\"{t}\"")))
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                }
                // The search indexes are derived, not copied: the events' is kept by its
                // triggers as the rows above were deleted and inserted; the incidents' is rebuilt.
                sqlx::query("INSERT INTO main.incidents_fts (incidents_fts) VALUES ('rebuild')").execute(&mut *conn).await?;
                Ok::<_, sqlx::Error>(())
            }
            .await;
            match copy {
                Ok(()) => sqlx::query("COMMIT").execute(&mut *conn).await?,
                Err(e) => {
                    sqlx::query("ROLLBACK").execute(&mut *conn).await?;
                    return Err(e.into());
                }
            };
            Ok(rows)
        }
        .await;
        // Leave the pooled connection as we found it, whatever happened.
        let _ = sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await;
        let _ = sqlx::query("DETACH DATABASE bk").execute(&mut *conn).await;
        result
    }
}
