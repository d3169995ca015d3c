//! The `cordon` command line: flags, wiring and exit codes. Everything
//! that does real work lives in the library crates.

mod cli;
mod diff;
mod egress;
mod generate;
mod ignore;
mod install;
mod outputs;
mod policy;
mod rules;
mod run;
mod scan;
mod size;
mod targets;

use std::process::ExitCode;

use crate::cli::Command;

fn main() -> ExitCode {
    let cli = cli::parse();
    cli::init_logging(&cli.global);

    // `run` must come first and touch nothing else: the sandbox forks
    // before any thread exists, because the kernel refuses to put a
    // multi-threaded process into a new user namespace.
    let result = match cli.command {
        Command::Run(args) => run::main(&cli.global, args),
        Command::Scan(args) => scan::main(&cli.global, args),
        Command::Rules(args) => rules::main(&cli.global, args),
        Command::Diff(args) => diff::main(&cli.global, args),
        Command::Install(args) => install::main(&cli.global, args),
        Command::Completions(args) => generate::completions(&cli.global, args),
        Command::Manpage(args) => generate::manpage(&cli.global, args),
    };

    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            cli::print_error(&err);
            ExitCode::from(cli::failure_code(&err))
        }
    }
}
