//! The `watchkeeper` binary: the command line, configuration, logging, and wiring the
//! server together. Every command that changes state goes through the `app` use-cases, so
//! the CLI is audited exactly like the console and the API.

mod archive;
mod cli;
mod config;
mod desk;
mod events;
mod oncall;
mod policy;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: the intake allocates and frees many small label
/// strings and maps per request across threads, where glibc spent a quarter of the server's
/// CPU (BENCHMARKS.md, Alertmanager-API intake).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
