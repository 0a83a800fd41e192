//! The `provscan` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod accept;
mod baseline;
mod compare;
mod config;
mod declared;
mod formats;
mod headers;
mod index_cmd;
mod index_shard;
mod placed;
mod policy;
mod progress;
mod report;
mod scan;
mod scan_cache;
mod small_files;
mod stream_cache;
mod targets;

/// Find code copied from known open source, with both line ranges and the origin's license.
#[derive(Parser)]
#[command(name = "provscan", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan trees, files or archives against the index and report copied code.
    Scan(scan::ScanArgs),
    /// Compare two trees (or files) in memory, without an index, and print copied snippets.
    Compare(compare::CompareArgs),
    /// Build and maintain the fingerprint index.
    Index(index_cmd::IndexArgs),
    /// Record review decisions (accepted findings) in .provscan.toml.
    Accept(accept::AcceptArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Index(args) => index_cmd::run(args),
        Command::Accept(args) => accept::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("provscan: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
