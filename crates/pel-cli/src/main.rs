//! `pel`: replay, verify and benchmark EVM blocks with pel's engines.

mod cli;
mod cmd;
mod output;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc, as reth ships jemalloc: with glibc's malloc, the committing worker frees what the
/// other workers allocated and waits on their arena locks, which halved the parallel engine's
/// speed in some processes (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match cli.command.run() {
        Ok(code) => code,
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
