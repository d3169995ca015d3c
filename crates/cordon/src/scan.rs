//! `cordon scan`: reads targets, scans them, renders the report.

use clap::Args;

use crate::cli::GlobalArgs;

/// Flags of `cordon scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Directories, files or archives to scan.
    pub targets: Vec<std::path::PathBuf>,
}

/// Runs `cordon scan`.
pub fn main(_global: &GlobalArgs, _args: ScanArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
