//! Group commit: senders hand their records to one writer task and wait; the writer takes
//! everything waiting, stores it in one transaction and answers each sender. Many senders
//! share one transaction and one sync, and no two writers wait on each other's lock — what
//! the alert and event intake need under a storm.

use crate::{App, AppError, Result};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

type Waiting<T> = (Vec<T>, oneshot::Sender<std::result::Result<(), String>>);

/// One writer of records of type `T`, started on first use.
pub(crate) struct GroupCommit<T> {
    sender: Arc<OnceLock<mpsc::Sender<Waiting<T>>>>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        GroupCommit { sender: self.sender.clone() }
    }
}

impl<T> Default for GroupCommit<T> {
    fn default() -> Self {
        GroupCommit { sender: Arc::default() }
    }
}

impl<T: Send + 'static> GroupCommit<T> {
    /// Stores `records` through the writer (started with `store` if it is not running) and
    /// returns once they are committed. One commit takes at most `max` records.
    pub(crate) async fn submit<F, Fut>(&self, app: &App, records: Vec<T>, max: usize, store: F) -> Result<()>
    where
        F: Fn(App, Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.enqueue(app, records, max, store).await?.wait().await
    }

    /// Hands `records` to the writer and returns what to wait on for their commit. Records
    /// handed over one after the other are committed in that order.
    pub(crate) async fn enqueue<F, Fut>(&self, app: &App, records: Vec<T>, max: usize, store: F) -> Result<Committed>
    where
        F: Fn(App, Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let writer = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(1024);
            tokio::spawn(write(app.clone(), rx, max, store));
            tx
        });
        let (done, stored) = oneshot::channel();
        writer.send((records, done)).await.map_err(|_| stopped())?;
        Ok(Committed(stored))
    }
}

fn stopped() -> AppError {
    AppError::Internal("the intake writer stopped".into())
}

/// Records handed to a writer, not yet known to be committed.
#[derive(Debug)]
pub struct Committed(oneshot::Receiver<std::result::Result<(), String>>);

impl Committed {
    /// Returns once the records are committed, or says why they were not.
    pub async fn wait(self) -> Result<()> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AppError::Internal(format!("not stored: {e}"))),
            Err(_) => Err(stopped()),
        }
    }
}

async fn write<T, F, Fut>(app: App, mut rx: mpsc::Receiver<Waiting<T>>, max: usize, store: F)
where
    F: Fn(App, Vec<T>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    while let Some(first) = rx.recv().await {
        // Let senders already being served hand theirs over first, so that they share this
        // commit's sync instead of each waiting for one of its own.
        tokio::task::yield_now().await;
        let mut waiting = vec![first];
        let mut n = waiting[0].0.len();
        while n < max {
            match rx.try_recv() {
                Ok(w) => {
                    n += w.0.len();
                    waiting.push(w);
                }
                Err(_) => break,
            }
        }
        let records: Vec<T> = waiting.iter_mut().flat_map(|(r, _)| std::mem::take(r)).collect();
        let stored = store(app.clone(), records).await.map_err(|e| {
            tracing::error!(error = %e, records = n, "Intake records could not be stored; their senders are told.");
            e.to_string()
        });
        for (_, done) in waiting {
            let _ = done.send(stored.clone());
        }
    }
}
