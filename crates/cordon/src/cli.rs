//! The flags every subcommand shares, logging, and how errors reach the
//! user.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;

/// Use third-party packages without trusting them blindly.
///
/// `cordon scan` reads a package before it runs and reports suspicious
/// code; `cordon run` runs a command in a sandbox and records what it
/// tried.
#[derive(Debug, Parser)]
#[command(name = "cordon", version, propagate_version = true)]
pub struct Cli {
    /// Flags every subcommand takes.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Explain decisions on stderr (what was skipped and why).
    #[arg(long, global = true)]
    pub debug: bool,

    /// Print nothing but the report and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to colour the terminal report; NO_COLOR in the environment
    /// means never, unless `always` is given.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan packages before they run and report suspicious code.
    Scan(crate::scan::ScanArgs),
    /// Run a command in a sandbox and record what it tried.
    Run(crate::run::RunArgs),
    /// List the built-in rules or explain one.
    Rules(crate::rules::RulesArgs),
    /// Compare two versions of a package: what the new one adds.
    Diff(crate::diff::DiffArgs),
    /// Resolve, scan, then install in the sandbox: npm, pip or cargo.
    Install(crate::install::InstallArgs),
    /// Print a shell completion script.
    Completions(crate::generate::CompletionsArgs),
    /// Print the man page, generated from these flags.
    Manpage(crate::generate::ManpageArgs),
}

/// The command-line definition, with the version line that names the
/// rule pack; the parser, the completions and the man page share it.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().version(crate::generate::version())
}

/// Parses the command line; on a usage error, or for `--help` and
/// `--version`, prints and exits as clap does.
///
/// The version line digests the whole rule pack, which costs more than
/// the rest of the parse: it is worked out only when the command line
/// could ask for it, so that `cordon run` starts without it.
pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let command = if asks_for_version(std::env::args_os()) {
        command()
    } else {
        Cli::command().version(env!("CARGO_PKG_VERSION"))
    };
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// Whether any argument is `--version` or `-V`; one that is an argument
/// of the command to run only costs the digest.
fn asks_for_version(args: impl Iterator<Item = OsString>) -> bool {
    args.skip(1).any(|arg| arg == "--version" || arg == "-V")
}

/// Sends `tracing` output to stderr: decisions at `--debug`, warnings
/// otherwise, nothing but errors with `--quiet`.
pub fn init_logging(global: &GlobalArgs) {
    let level = if global.debug {
        "debug"
    } else if global.quiet {
        "error"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CORDON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(global.debug)
        .without_time()
        .init();
}

/// Prints an error and its causes once, on stderr.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("cordon: error: {err:#}");
}

/// The exit code for a failure of cordon itself. `run` reports its own
/// failures as 125, as `docker run` does; everything else uses 2.
pub fn failure_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<crate::run::RunFailure>() {
        Some(failure) => failure.exit_code(),
        None => 2,
    }
}

/// Whether to colour output: `always` and `never` say so; `auto` colours
/// a terminal unless `NO_COLOR` is set to anything non-empty.
pub fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR")
                .is_some_and(|value| !value.is_empty());
            to_terminal && !no_color
        }
    }
}

/// Treats a closed pipe on stdout (`cordon scan | head`) as success: the
/// reader has all it wanted.
pub fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(args: &[&str]) -> bool {
        asks_for_version(args.iter().map(OsString::from))
    }

    #[test]
    fn only_a_version_flag_costs_the_rule_pack_digest() {
        assert!(asks(&["cordon", "--version"]));
        assert!(asks(&["cordon", "scan", "-V"]));
        assert!(!asks(&["cordon", "run", "--", "true"]));
        assert!(!asks(&["--version"]), "the program's own name");
        assert!(!asks(&["cordon", "--versions"]));
    }
}
