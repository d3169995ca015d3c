//! What is generated from the command-line definition itself: shell
//! completions (`cordon completions SHELL`) and the man page (`cordon
//! manpage`); and the version line, which names the rule pack.
//!
//! Both come from the same clap definition the parser uses, so they
//! cannot fall behind a flag.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Context;
use clap::Args;
use clap_complete::Shell;
use clap_mangen::Man;

use crate::cli::{self, GlobalArgs};

/// Flags of `cordon completions`.
#[derive(Debug, Args)]
#[command(after_help = COMPLETIONS_HELP)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

const COMPLETIONS_HELP: &str = "\
Examples:
  cordon completions bash > /etc/bash_completion.d/cordon
  cordon completions zsh > \"${fpath[1]}/_cordon\"
  cordon completions fish > ~/.config/fish/completions/cordon.fish";

/// Flags of `cordon manpage`.
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// Write one page per command (cordon.1, cordon-scan.1, ...) into
    /// DIR instead of printing cordon(1), which covers every
    /// subcommand, on standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The version line: cordon's version and the built-in rule pack's,
/// as the number of rules and a digest of the rule files.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let sources = cordon_scan::builtin_sources();
        let mut digest = Fnv::new();
        let mut rules = 0;
        for source in &sources {
            digest.write(source.name.as_bytes());
            digest.write(&[0]);
            digest.write(source.text.as_bytes());
            digest.write(&[0]);
            rules +=
                source.text.lines().filter(|l| l.trim() == "[[rule]]").count();
        }
        format!(
            "{} (rule pack {:012x}, {rules} rules)",
            env!("CARGO_PKG_VERSION"),
            digest.finish() & 0xffff_ffff_ffff
        )
    })
}

/// Prints the completion script for a shell.
pub fn completions(
    _global: &GlobalArgs,
    args: CompletionsArgs,
) -> anyhow::Result<u8> {
    let mut command = cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cordon", &mut out);
    write_stdout(&out)?;
    Ok(0)
}

/// Prints cordon(1), or writes a page per command into a directory.
pub fn manpage(_global: &GlobalArgs, args: ManpageArgs) -> anyhow::Result<u8> {
    let command = cli::command();
    if let Some(dir) = &args.dir {
        clap_mangen::generate_to(command, dir).with_context(|| {
            format!("cannot write the man pages to `{}`", dir.display())
        })?;
        return Ok(0);
    }
    let page = whole_page(command).context("cannot render the man page")?;
    write_stdout(page.as_bytes())?;
    Ok(0)
}

/// cordon(1): the top-level page, then a section per subcommand with
/// its synopsis, description and options.
fn whole_page(mut command: clap::Command) -> io::Result<String> {
    command.build();
    let mut page = render(|out| Man::new(command.clone()).render(out))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or(sub.get_name());
        let _ = writeln!(page, ".SH \"{}\"", name.to_uppercase());
        let man = Man::new(sub.clone());
        page += &subsections(render(|o| man.render_synopsis_section(o))?);
        page += &subsections(render(|o| man.render_description_section(o))?);
        page += &subsections(render(|o| man.render_options_section(o))?);
        if sub.get_after_help().is_some() {
            page += &subsections(render(|o| man.render_extra_section(o))?);
        }
    }
    Ok(page)
}

/// Roff written by `write`, as text.
fn render(
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<String> {
    let mut out = Vec::new();
    write(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A section of a subcommand's page turned into a subsection of
/// cordon(1): `.SH OPTIONS` becomes `.SS Options`.
fn subsections(roff: String) -> String {
    let mut out = String::with_capacity(roff.len());
    for line in roff.lines() {
        match line.strip_prefix(".SH ") {
            Some(title) => {
                let title = title.trim_matches('"').to_lowercase();
                let mut chars = title.chars();
                let first = chars.next().map(|c| c.to_uppercase().to_string());
                let _ = writeln!(
                    out,
                    ".SS \"{}{}\"",
                    first.unwrap_or_default(),
                    chars.as_str()
                );
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let written = io::stdout().lock().write_all(bytes);
    cli::ignore_broken_pipe(written).context("cannot write to stdout")
}

/// 64-bit FNV-1a: a stable digest of the rule files for the version
/// line (not a security measure: it names a pack, it does not vouch
/// for one).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
