//! `cordon rules`: the rule catalogue.

use clap::Args;

use crate::cli::GlobalArgs;

/// Flags of `cordon rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {}

/// Runs `cordon rules`.
pub fn main(_global: &GlobalArgs, _args: RulesArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
