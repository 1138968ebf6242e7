//! What every handler shares: the application, the metrics registry and how the server was
//! started (demo mode, TLS).

use crate::metrics::Metrics;
use app::App;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    /// Seeded with the demo estate: the login page says how to sign in.
    pub demo: bool,
    /// Served over TLS: cookies get `Secure` and responses HSTS.
    pub tls: bool,
    pub started: Instant,
}
