//! Policy files: the `[run]` section of a `cordon.toml`, what
//! `cordon run --policy FILE` reads.
//!
//! ```toml
//! [run]
//! workspace = "."                       # relative to this file
//! network = "proxy"                     # none, host or proxy
//! allow_hosts = ["registry.npmjs.org"]  # HOST[:PORT], *.example.org
//! resolve = ["registry.lan=10.0.0.7"]   # NAME=IP, as --resolve
//! ro = ["~/.cargo"]                     # shown read-only
//! rw = ["~/.cache/pip"]                 # writable too
//! hide = ["/etc/hosts"]                 # covered
//! env = ["NPM_TOKEN"]                   # passed although credential-like
//! memory = "2GiB"                       # or a number of bytes
//! pids = 256
//! timeout = "10m"                       # or a number of seconds
//! ```
//!
//! Every key is optional. Relative paths are taken from the policy
//! file's directory, and `~` is the home of the user running cordon.
//! `allow_hosts` without `network` means `network = "proxy"`; with
//! `none` or `host` it is an error. A policy is never read unless
//! named: a `cordon.toml` in a downloaded project could otherwise give
//! its own code the network.
//!
//! The file is read into a checked [`Policy`]: an unknown key, a value
//! of the wrong type, a host entry, size or duration that does not
//! parse is an error naming the file, the line and the key.
//!
//! Flags on the command line add to the policy's lists (`--allow-host`,
//! `--resolve`, `--ro`, `--rw`, `--hide`, `--env`) and replace its
//! single values (`--workspace`, `--net`, `--memory`, `--pids`,
//! `--timeout`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use toml::Spanned;

use crate::run::{NetArg, RunArgs};

/// A checked `[run]` section.
#[derive(Debug, Default, PartialEq)]
pub struct Policy {
    /// The directory the command may write to.
    pub workspace: Option<PathBuf>,
    /// The network the command gets.
    pub network: Option<NetArg>,
    /// Hosts the egress proxy lets through, as canonical entries.
    pub allow_hosts: Vec<String>,
    /// Names the egress proxy resolves to the given address, trusted
    /// even when internal, as canonical `NAME=IP`.
    pub resolve: Vec<String>,
    /// Paths shown read-only.
    pub ro: Vec<PathBuf>,
    /// Paths the command may write to.
    pub rw: Vec<PathBuf>,
    /// Paths covered.
    pub hide: Vec<PathBuf>,
    /// Credential-like variables passed anyway.
    pub env: Vec<String>,
    /// The memory limit in bytes.
    pub memory: Option<u64>,
    /// The process limit.
    pub pids: Option<u64>,
    /// The wall-clock limit.
    pub timeout: Option<Duration>,
}

#[derive(Deserialize)]
struct RawFile {
    run: Option<RawRun>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    workspace: Option<Spanned<String>>,
    network: Option<Spanned<RawNetwork>>,
    allow_hosts: Option<Vec<Spanned<String>>>,
    resolve: Option<Vec<Spanned<String>>>,
    ro: Option<Vec<Spanned<String>>>,
    rw: Option<Vec<Spanned<String>>>,
    hide: Option<Vec<Spanned<String>>>,
    env: Option<Vec<String>>,
    memory: Option<Spanned<Amount>>,
    pids: Option<u64>,
    timeout: Option<Spanned<Amount>>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawNetwork {
    None,
    Host,
    Proxy,
}

/// A size or a duration: a number, or a string with a unit.
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Number(u64),
    Text(String),
}

/// Reads a configuration file's text.
pub fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads the policy in `path`; a file without `[run]` is an empty
/// policy.
pub fn load(path: &Path) -> anyhow::Result<Policy> {
    let text = read_file(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let base = if base.as_os_str().is_empty() { Path::new(".") } else { base };
    parse(&text, base).map_err(|err| {
        anyhow::anyhow!("invalid policy {}:{err}", path.display())
    })
}

/// A mistake in a policy, with where it is.
#[derive(Debug)]
struct Mistake {
    line: usize,
    key: String,
    message: String,
}

impl std::fmt::Display for Mistake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: key `{}`: {}", self.line, self.key, self.message)
    }
}

/// The policy of a configuration file's text, with relative paths
/// taken from `base`.
fn parse(text: &str, base: &Path) -> Result<Policy, Mistake> {
    let raw: RawFile = toml::from_str(text).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        Mistake {
            line: line_of(text, offset),
            key: key_at(text, offset),
            message: err.message().trim().to_string(),
        }
    })?;
    let Some(run) = raw.run else {
        return Ok(Policy::default());
    };
    check(run, text, base)
}

/// The key whose value covers `offset`: the nearest `key =` at or above
/// its line, or the table header.
fn key_at(text: &str, offset: usize) -> String {
    let upto = &text[..offset.min(text.len())];
    let line_end =
        text[upto.len()..].find('\n').map_or(text.len(), |n| upto.len() + n);
    for line in text[..line_end].lines().rev() {
        let line = line.trim();
        if line.starts_with('[') {
            return line.trim_matches(['[', ']', ' ']).to_string();
        }
        if let Some((key, _)) = line.split_once('=') {
            return key.trim().trim_matches('"').to_string();
        }
    }
    "run".into()
}

/// Checks the values that the types alone do not.
fn check(run: RawRun, text: &str, base: &Path) -> Result<Policy, Mistake> {
    let at = |span: Span, key: &'static str| {
        move |message| Mistake {
            line: line_of(text, span.start),
            key: key.into(),
            message,
        }
    };
    let paths = |list: Option<Vec<Spanned<String>>>, key: &'static str| {
        list.unwrap_or_default()
            .into_iter()
            .map(|p| resolve(p.get_ref(), base).map_err(at(p.span(), key)))
            .collect::<Result<Vec<_>, _>>()
    };

    let mut allow_hosts = Vec::new();
    for entry in run.allow_hosts.unwrap_or_default() {
        let rule: cordon_egress::Rule = entry
            .get_ref()
            .parse()
            .map_err(|e| at(entry.span(), "allow_hosts")(format!("{e}")))?;
        allow_hosts.push(rule.to_string());
    }
    let mut mapped = Vec::new();
    for entry in run.resolve.unwrap_or_default() {
        let (name, ip) = crate::egress::parse_mapping(entry.get_ref())
            .map_err(at(entry.span(), "resolve"))?;
        mapped.push(format!("{name}={ip}"));
    }
    let network = network(run.network, !allow_hosts.is_empty())
        .map_err(|(span, m)| at(span, "network")(m))?;
    let workspace = run
        .workspace
        .map(|d| resolve(d.get_ref(), base).map_err(at(d.span(), "workspace")))
        .transpose()?;
    let memory = run
        .memory
        .map(|a| size(a.get_ref()).map_err(at(a.span(), "memory")))
        .transpose()?;
    let timeout = run
        .timeout
        .map(|a| duration(a.get_ref()).map_err(at(a.span(), "timeout")))
        .transpose()?;

    Ok(Policy {
        workspace,
        network,
        allow_hosts,
        resolve: mapped,
        ro: paths(run.ro, "ro")?,
        rw: paths(run.rw, "rw")?,
        hide: paths(run.hide, "hide")?,
        env: run.env.unwrap_or_default(),
        memory,
        pids: run.pids,
        timeout,
    })
}

type Span = std::ops::Range<usize>;

/// The network: `proxy` when hosts are allowed and none is named.
fn network(
    raw: Option<Spanned<RawNetwork>>,
    has_hosts: bool,
) -> Result<Option<NetArg>, (Span, String)> {
    let Some(raw) = raw else {
        return Ok(has_hosts.then_some(NetArg::Proxy));
    };
    match (*raw.get_ref(), has_hosts) {
        (RawNetwork::Proxy, _) => Ok(Some(NetArg::Proxy)),
        (_, true) => {
            Err((raw.span(), "allow_hosts needs network = \"proxy\"".into()))
        }
        (RawNetwork::None, false) => Ok(Some(NetArg::None)),
        (RawNetwork::Host, false) => Ok(Some(NetArg::Host)),
    }
}

fn size(amount: &Amount) -> Result<u64, String> {
    match amount {
        Amount::Number(n) => Ok(*n),
        Amount::Text(t) => crate::size::parse_size(t),
    }
}

fn duration(amount: &Amount) -> Result<Duration, String> {
    match amount {
        Amount::Number(n) => Ok(Duration::from_secs(*n)),
        Amount::Text(t) => cordon_sandbox::parse_duration(t),
    }
}

/// A path of the policy: `~` is the home, relative paths start at
/// `base`.
fn resolve(text: &str, base: &Path) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("an empty path".into());
    }
    if text == "~" || text.starts_with("~/") {
        let home = std::env::var_os("HOME")
            .ok_or_else(|| format!("`{text}`: HOME is not set"))?;
        let rest = text.trim_start_matches('~').trim_start_matches('/');
        return Ok(Path::new(&home).join(rest));
    }
    let path = Path::new(text);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(base.join(path))
}

/// Puts the policy under the flags: lists add up, and a flag given
/// replaces the policy's single value.
pub fn apply(policy: Policy, args: &mut RunArgs) {
    args.workspace = args.workspace.take().or(policy.workspace);
    args.net = args.net.or(policy.network);
    args.memory = args.memory.or(policy.memory);
    args.pids = args.pids.or(policy.pids);
    args.timeout = args.timeout.or(policy.timeout);
    prepend(&mut args.egress.allow_host, policy.allow_hosts);
    prepend(&mut args.egress.resolve, policy.resolve);
    prepend(&mut args.ro, policy.ro);
    prepend(&mut args.rw, policy.rw);
    prepend(&mut args.hide, policy.hide);
    prepend(&mut args.env_pass, policy.env);
}

fn prepend<T: PartialEq>(list: &mut Vec<T>, first: Vec<T>) {
    let flags = std::mem::replace(list, first);
    for item in flags {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// A policy file allowing exactly `hosts`, with the `resolve` mappings
/// (`NAME=IP`) they were reached through, and writing `rw`, as
/// `--learn` writes it.
pub fn render_learned(
    command: &str,
    hosts: &[String],
    resolve: &[String],
    rw: &[PathBuf],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `cordon run --learn` after:");
    let _ = writeln!(out, "#   {command}");
    let _ =
        writeln!(out, "# The narrowest policy that would have let it run.");
    let _ = writeln!(out, "[run]");
    let _ = writeln!(out, "network = \"proxy\"");
    let _ = writeln!(out, "allow_hosts = {}", toml_list(hosts));
    if !resolve.is_empty() {
        let _ = writeln!(out, "resolve = {}", toml_list(resolve));
    }
    if !rw.is_empty() {
        let rw: Vec<String> =
            rw.iter().map(|p| p.display().to_string()).collect();
        let _ = writeln!(out, "rw = {}", toml_list(&rw));
    }
    out
}

/// A TOML array of strings, one per line when there are several.
fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| toml::Value::String(s.clone()).to_string())
        .collect();
    match quoted.len() {
        0 => "[]".into(),
        1 => format!("[{}]", quoted[0]),
        _ => format!("[\n    {},\n]", quoted.join(",\n    ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Policy {
        parse(text, Path::new("/project")).unwrap()
    }

    fn mistake(text: &str) -> String {
        parse(text, Path::new("/project")).unwrap_err().to_string()
    }

    #[test]
    fn every_key_is_read() {
        let policy = parse_ok(
            "[scan]\n[run]\nworkspace = \"ws\"\n\
             allow_hosts = [\"Registry.Test:8080\", \"*.example.org\"]\n\
             resolve = [\"Registry.Test=127.0.0.1\", \"v6.test=[::1]\"]\n\
             ro = [\"/opt/tool\"]\nrw = [\"cache\"]\nhide = [\"/etc/hosts\"]\n\
             env = [\"NPM_TOKEN\"]\nmemory = \"1GiB\"\npids = 64\n\
             timeout = \"2m\"\n",
        );
        assert_eq!(
            policy,
            Policy {
                workspace: Some("/project/ws".into()),
                network: Some(NetArg::Proxy),
                allow_hosts: vec![
                    "registry.test:8080".into(),
                    "*.example.org".into()
                ],
                resolve: vec![
                    "registry.test=127.0.0.1".into(),
                    "v6.test=::1".into()
                ],
                ro: vec!["/opt/tool".into()],
                rw: vec!["/project/cache".into()],
                hide: vec!["/etc/hosts".into()],
                env: vec!["NPM_TOKEN".into()],
                memory: Some(1 << 30),
                pids: Some(64),
                timeout: Some(Duration::from_secs(120)),
            }
        );
        let numbers = parse_ok("[run]\nmemory = 4096\ntimeout = 30\n");
        assert_eq!(numbers.memory, Some(4096));
        assert_eq!(numbers.timeout, Some(Duration::from_secs(30)));
        assert_eq!(parse_ok("[scan]\n"), Policy::default());
    }

    #[test]
    fn mistakes_name_the_line_and_the_key() {
        for (text, line, key, says) in [
            ("[run]\n\nalow_hosts = []\n", 3, "alow_hosts", "unknown field"),
            ("[run]\npids = \"many\"\n", 2, "pids", "invalid type"),
            ("[run]\nnetwork = \"wifi\"\n", 2, "network", "unknown variant"),
            (
                "[run]\nallow_hosts = [\n  \"ok.test\",\n  \"bad host\",\n]\n",
                4,
                "allow_hosts",
                "bad host",
            ),
            ("[run]\nmemory = \"lots\"\n", 2, "memory", "lots"),
            ("[run]\ntimeout = \"5 weeks\"\n", 2, "timeout", "5 weeks"),
            (
                "[run]\nnetwork = \"none\"\nallow_hosts = [\"a.test\"]\n",
                2,
                "network",
                "needs network = \"proxy\"",
            ),
            (
                "[run]\nresolve = [\"a.test=not-an-ip\"]\n",
                2,
                "resolve",
                "not an ip address",
            ),
            ("[run]\nresolve = [\"a.test\"]\n", 2, "resolve", "NAME=IP"),
            ("[run]\nro = [\"\"]\n", 2, "ro", "empty path"),
            ("[run]\nro = [1]\n", 2, "ro", "invalid type"),
            ("[run]\nrw = \"/tmp/x\"\n", 2, "rw", "invalid type"),
        ] {
            let err = mistake(text);
            assert!(err.starts_with(&format!("{line}: ")), "{text}: {err}");
            assert!(err.contains(&format!("key `{key}`")), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn flags_add_to_lists_and_replace_values() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        let mut args = Cli::parse_from([
            "cordon",
            "--allow-host",
            "extra.test",
            "--resolve",
            "extra.test=10.0.0.8",
            "--pids",
            "9",
            "--ro",
            "/opt/tool",
            "--",
            "true",
        ])
        .run;
        let policy = parse_ok(
            "[run]\nallow_hosts = [\"a.test\"]\nro = [\"/opt/tool\"]\n\
             resolve = [\"a.test=10.0.0.7\"]\npids = 64\nmemory = 1024\n",
        );

        apply(policy, &mut args);

        assert_eq!(args.egress.allow_host, ["a.test", "extra.test"]);
        assert_eq!(
            args.egress.resolve,
            ["a.test=10.0.0.7", "extra.test=10.0.0.8"]
        );
        assert_eq!(args.ro, [PathBuf::from("/opt/tool")]);
        assert_eq!(args.pids, Some(9));
        assert_eq!(args.memory, Some(1024));
        assert_eq!(args.net, Some(NetArg::Proxy));
    }

    #[test]
    fn the_example_policies_are_valid() {
        for (name, text) in [
            (
                "npm",
                include_str!("../../../examples/policies/npm-install.toml"),
            ),
            (
                "pip",
                include_str!("../../../examples/policies/pip-install.toml"),
            ),
            (
                "cargo",
                include_str!("../../../examples/policies/cargo-fetch.toml"),
            ),
        ] {
            let policy = parse(text, Path::new("/project"))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(policy.network, Some(NetArg::Proxy), "{name}");
            assert!(!policy.allow_hosts.is_empty(), "{name}");
            assert!(policy.timeout.is_some(), "{name}");
        }
    }

    #[test]
    fn a_learned_policy_reads_back() {
        let text = render_learned(
            "npm install",
            &["registry.test:8080".into(), "cdn.test:443".into()],
            &["registry.test=127.0.0.1".into()],
            &[PathBuf::from("/var/cache/x")],
        );
        let policy = parse_ok(&text);
        assert_eq!(policy.allow_hosts, ["registry.test:8080", "cdn.test:443"]);
        assert_eq!(policy.resolve, ["registry.test=127.0.0.1"]);
        assert_eq!(policy.rw, [PathBuf::from("/var/cache/x")]);
        assert_eq!(policy.network, Some(NetArg::Proxy));
        let none = parse_ok(&render_learned("true", &[], &[], &[]));
        assert_eq!(none.network, Some(NetArg::Proxy));
    }
}
