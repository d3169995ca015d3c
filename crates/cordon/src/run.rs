//! `cordon run`: the sandbox's command line.

use clap::Args;

use crate::cli::GlobalArgs;

/// Flags of `cordon run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The command to run, and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// A failure of cordon itself while setting up or running the sandbox,
/// carrying the exit status `docker run` would use.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RunFailure {
    message: String,
    code: u8,
}

impl RunFailure {
    /// The exit status for this failure: 125, 126 or 127.
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

/// Runs `cordon run`.
pub fn main(_global: &GlobalArgs, _args: RunArgs) -> anyhow::Result<u8> {
    Err(RunFailure { message: "not built yet".into(), code: 125 }.into())
}
