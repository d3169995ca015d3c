//! `cordon rules`: the catalogue of built-in rules.

use std::io::{self, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use cordon_scan::Engine;

use crate::cli::{self, GlobalArgs};

/// Flags of `cordon rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// What to show; `list` when omitted.
    #[command(subcommand)]
    pub action: Option<RulesAction>,
}

/// What `cordon rules` shows.
#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Every rule: id, severity and what it looks for.
    List,
    /// One rule in full: what it looks for, why it matters, what to do.
    Explain {
        /// The rule's id, as `cordon rules list` shows it.
        id: String,
    },
}

/// Runs `cordon rules` and returns its exit code.
pub fn main(_global: &GlobalArgs, args: RulesArgs) -> anyhow::Result<u8> {
    let engine =
        Engine::builtin().context("cannot load the built-in rules")?;
    let mut out = io::stdout().lock();
    let written = match args.action.unwrap_or(RulesAction::List) {
        RulesAction::List => list(&engine, &mut out),
        RulesAction::Explain { id } => match explain(&engine, &id) {
            Some(text) => out.write_all(text.as_bytes()),
            None => anyhow::bail!(
                "no rule `{id}`; `cordon rules list` shows every rule"
            ),
        },
    };
    cli::ignore_broken_pipe(written).context("cannot write to stdout")?;
    Ok(0)
}

fn list(engine: &Engine, out: &mut dyn Write) -> io::Result<()> {
    let mut rules = engine.rule_infos();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let width = rules.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    for rule in rules {
        let severity = rule.severity.to_string();
        writeln!(out, "{:width$}  {severity:8}  {}", rule.id, rule.summary)?;
    }
    Ok(())
}

fn explain(engine: &Engine, id: &str) -> Option<String> {
    let rule = engine.rule_infos().into_iter().find(|rule| rule.id == id)?;
    Some(format!(
        "{} ({})\n\n{}\n\n{}\n",
        rule.id,
        rule.severity,
        rule.summary,
        rule.help.trim_end()
    ))
}
