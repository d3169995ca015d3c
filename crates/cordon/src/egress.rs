//! `cordon run --allow-host`, `--policy` and `--learn`: the sandbox's
//! way out by host name, through cordon's egress proxy.
//!
//! The sandbox keeps its private network with only loopback. Its init
//! makes a listening socket at [`PROXY_ADDRESS`] in that network and
//! hands it to cordon, whose threads serve it with `cordon-egress`:
//! so the proxy is reached from inside without any virtual link, and
//! reaches out from cordon's own network. The command finds it through
//! `HTTP_PROXY`, `HTTPS_PROXY` and the npm, pip and cargo settings; a
//! program that ignores them still has nowhere else to go.
//!
//! Every destination asked for is recorded: in the JSON report's
//! `egress` section, as `egress` lines of `--events`, and in the
//! summary on stderr, which names the `allow_hosts` entry that would
//! have let a refused destination through. With `--learn FILE` the
//! proxy lets everything through and records it, and cordon writes the
//! narrowest policy that would have let the run succeed.
//!
//! The proxy resolves names outside the sandbox, and a name it resolves
//! never leads to an internal address (loopback, private, link-local,
//! ...): such a request is refused and recorded with the address. The
//! user reaches a registry on this machine or the local network with
//! `--resolve NAME=IP`, which the proxy then trusts, or with an entry
//! naming the address itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use anyhow::bail;
use clap::Args;
use cordon_egress::{
    Access, Config, Decision, Handle, Host, Proxy, Record, StaticResolver,
};
use cordon_report::events::{Access as FileAccess, Outcome, Zone};
use cordon_report::run::RunReport;
use cordon_sandbox::{AnsweredNames, NetSocket, SandboxConfig, Transport};
use serde_json::{Value, json};

use crate::outputs::Output;
use crate::run::{NetArg, RunArgs};

/// Where the proxy listens inside the sandbox's network namespace.
pub const PROXY_ADDRESS: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3128));

/// The variables that point the command's tools at the proxy.
const PROXY_VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "npm_config_proxy",
    "npm_config_https_proxy",
    "PIP_PROXY",
    "CARGO_HTTP_PROXY",
];

/// How long open connections get to finish once the command has ended.
const GRACE: Duration = Duration::from_millis(500);

/// The flags of `cordon run` about egress and policies.
#[derive(Debug, Args)]
pub struct EgressArgs {
    /// Let the command reach HOST[:PORT] through cordon's egress proxy
    /// (repeatable): `*.example.org` for every name below it; without a
    /// port, 443 and 80; `HOST:*` for every port. Implies --net proxy.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_host: Vec<String>,

    /// Have the egress proxy resolve NAME to IP, as curl's --resolve
    /// does (repeatable). A name the proxy resolves itself never leads
    /// to a loopback, private, link-local or other internal address;
    /// a name mapped here does, so this is how a registry on this
    /// machine or the local network is reached by name. NAME must
    /// still be allowed by --allow-host.
    #[arg(long = "resolve", value_name = "NAME=IP")]
    pub resolve: Vec<String>,

    /// Read the `[run]` section of this policy file (a cordon.toml);
    /// flags add to its lists and replace its single values.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Let the command reach every host through the proxy, record them,
    /// and write to FILE the narrowest policy that would have let this
    /// run through.
    #[arg(long, value_name = "FILE")]
    pub learn: Option<PathBuf>,
}

/// The proxy a run gets, before it starts.
pub struct Egress {
    access: Access,
    config: Config,
    resolve: Vec<(String, IpAddr)>,
}

/// Reads a `--resolve` mapping, `NAME=IP` (an IPv6 address bare or in
/// brackets), into the name, lowercase, and the address.
pub fn parse_mapping(text: &str) -> Result<(String, IpAddr), String> {
    let (name, ip) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=IP"))?;
    let name = match Host::parse(name.trim()) {
        Ok(Host::Name(name)) => name,
        _ => return Err(format!("`{name}` in `{text}` is not a host name")),
    };
    let ip = ip.trim();
    let bare =
        ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')).unwrap_or(ip);
    let ip = bare
        .parse::<IpAddr>()
        .map_err(|_| format!("`{ip}` in `{text}` is not an ip address"))?;
    Ok((name, ip))
}

/// The `--resolve` mappings, each name once.
fn mappings(entries: &[String]) -> anyhow::Result<Vec<(String, IpAddr)>> {
    let mut list: Vec<(String, IpAddr)> = Vec::new();
    for entry in entries {
        let (name, ip) = parse_mapping(entry)
            .map_err(|e| anyhow::anyhow!("invalid --resolve: {e}"))?;
        match list.iter().find(|(n, _)| *n == name) {
            Some((_, old)) if *old != ip => {
                bail!(
                    "invalid --resolve: `{name}` is mapped to {old} and {ip}"
                )
            }
            Some(_) => {}
            None => list.push((name, ip)),
        }
    }
    Ok(list)
}

/// Reads `--policy` into the flags, and returns the proxy the run
/// needs, if any.
pub fn prepare(args: &mut RunArgs) -> anyhow::Result<Option<Egress>> {
    if let Some(path) = args.egress.policy.clone() {
        crate::policy::apply(crate::policy::load(&path)?, args);
    }
    let wants_proxy =
        !args.egress.allow_host.is_empty() || args.egress.learn.is_some();
    match args.net {
        Some(NetArg::Proxy) => {}
        None if wants_proxy => args.net = Some(NetArg::Proxy),
        Some(net) if wants_proxy => {
            let net = if net == NetArg::Host { "host" } else { "none" };
            bail!("--allow-host and --learn need --net proxy, not {net}");
        }
        _ if !args.egress.resolve.is_empty() => {
            bail!("--resolve needs the egress proxy: add --allow-host");
        }
        None | Some(_) => return Ok(None),
    }
    if args.dns_sinkhole {
        bail!("--dns-sinkhole cannot be combined with the egress proxy");
    }
    let access = match &args.egress.learn {
        Some(_) => Access::Everything,
        None => Access::list(&args.egress.allow_host)?,
    };
    let resolve = mappings(&args.egress.resolve)?;

    let mut config = Config::new(access.clone());
    config.mapped =
        resolve.iter().fold(StaticResolver::new(), |table, (name, ip)| {
            table.with(name, *ip)
        });
    Ok(Some(Egress { access, config, resolve }))
}

impl Egress {
    /// Asks for the proxy's socket and points the command at it.
    pub fn configure(&self, config: &mut SandboxConfig) {
        config.sockets.push(NetSocket {
            transport: Transport::Tcp,
            address: PROXY_ADDRESS,
            connectable: true,
        });
        let url = format!("http://{PROXY_ADDRESS}");
        for name in PROXY_VARIABLES {
            config.env.push((name.into(), url.clone().into()));
        }
        for name in ["NO_PROXY", "no_proxy"] {
            config.env.push((name.into(), "".into()));
        }
        if let Some(monitor) = config.monitor.as_mut() {
            let access = self.access.clone();
            monitor.answered =
                Some(AnsweredNames::new(move |name| access.allows_name(name)));
        }
    }

    /// Serves the proxy's socket (the last one handed over) from
    /// cordon's threads.
    pub fn start(&self, mut fds: Vec<OwnedFd>) -> Option<Running> {
        let fd = fds.pop()?;
        let (send, records) = channel();
        let send = Mutex::new(send);
        let proxy = Proxy::new(
            self.config.clone(),
            Box::new(move |record| {
                let sender = send.lock().unwrap_or_else(|e| e.into_inner());
                let _ = sender.send(record);
            }),
        );
        match proxy.spawn(TcpListener::from(fd)) {
            Ok(handle) => Some(Running { handle, records }),
            Err(err) => {
                tracing::warn!("cannot start the egress proxy: {err}");
                None
            }
        }
    }

    /// Stops the proxy and sums up what went through it.
    pub fn finish(&self, running: Option<Running>) -> Traffic {
        let records = match running {
            Some(running) => {
                running.handle.stop(GRACE);
                running.records.try_iter().collect()
            }
            None => Vec::new(),
        };
        let learning = matches!(self.access, Access::Everything);
        Traffic { records, learning }
    }

    /// The rules that would let the refused destinations through.
    fn suggestions(&self, records: &[Record]) -> Vec<String> {
        let mut rules = Vec::new();
        for record in records {
            if record.decision != Decision::Refused {
                continue;
            }
            let Ok(host) = Host::parse(&record.host) else { continue };
            if record.port == 0
                || self.access.check(&host, record.port).is_ok()
            {
                continue;
            }
            let rule = format!("{}:{}", host.to_url_form(), record.port);
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        rules
    }
}

/// A proxy serving the sandbox.
pub struct Running {
    handle: Handle,
    records: Receiver<Record>,
}

/// What went through the proxy during a run.
pub struct Traffic {
    records: Vec<Record>,
    learning: bool,
}

/// One destination, counted once per host, port, method and decision.
struct Destination<'a> {
    first: &'a Record,
    count: u64,
    bytes_up: u64,
    bytes_down: u64,
}

fn destinations(records: &[Record]) -> Vec<Destination<'_>> {
    let mut by_key: BTreeMap<(&str, u16, &str, &str), Destination<'_>> =
        BTreeMap::new();
    for record in records {
        let key = (
            record.host.as_str(),
            record.port,
            record.method.as_str(),
            record.decision.name(),
        );
        let entry = by_key.entry(key).or_insert(Destination {
            first: record,
            count: 0,
            bytes_up: 0,
            bytes_down: 0,
        });
        entry.count += 1;
        entry.bytes_up += record.bytes_up;
        entry.bytes_down += record.bytes_down;
    }
    let mut list: Vec<_> = by_key.into_values().collect();
    list.sort_by_key(|d| {
        (d.first.decision == Decision::Allowed, d.first.time_ms)
    });
    list
}

impl Egress {
    /// The report's `egress` section.
    pub fn report_section(&self, outcome: &Traffic) -> Value {
        let list: Vec<Value> = destinations(&outcome.records)
            .iter()
            .map(|d| {
                json!({
                    "host": d.first.host,
                    "port": d.first.port,
                    "method": d.first.method,
                    "decision": d.first.decision.name(),
                    "reason": d.first.reason,
                    "sni": d.first.sni,
                    "count": d.count,
                    "bytes_up": d.bytes_up,
                    "bytes_down": d.bytes_down,
                    "time_ms": d.first.time_ms,
                })
            })
            .collect();
        let count = |decision| {
            outcome.records.iter().filter(|r| r.decision == decision).count()
        };
        json!({
            "mode": if outcome.learning { "learn" } else { "allow" },
            "proxy": PROXY_ADDRESS.to_string(),
            "allow_hosts": self.allow_hosts(),
            "counts": {
                "allowed": count(Decision::Allowed),
                "refused": count(Decision::Refused),
                "failed": count(Decision::Failed),
            },
            "destinations": list,
            "add_to_policy": self.suggestions(&outcome.records),
        })
    }

    fn allow_hosts(&self) -> Vec<String> {
        match &self.access {
            Access::List(rules) => {
                rules.iter().map(ToString::to_string).collect()
            }
            Access::Everything => vec!["*".into()],
        }
    }

    /// The summary on stderr: each destination, and what to add for
    /// those refused.
    pub fn render_terminal(&self, outcome: &Traffic) -> String {
        let mut out = String::new();
        let list = destinations(&outcome.records);
        let refused =
            list.iter().filter(|d| d.first.decision != Decision::Allowed);
        let allowed = list.len() - refused.clone().count();
        let _ = writeln!(
            out,
            "cordon: egress: {allowed} destination(s) allowed, {} refused \
             or failed",
            refused.count()
        );
        for d in &list {
            let r = d.first;
            let _ = write!(
                out,
                "  {:<8} {} {}:{}",
                r.decision.name(),
                r.method,
                r.host,
                r.port
            );
            if r.decision == Decision::Allowed {
                let _ = writeln!(
                    out,
                    " ({}x, {} B up, {} B down)",
                    d.count, d.bytes_up, d.bytes_down
                );
            } else {
                let _ = writeln!(out, ": {}", r.reason);
            }
        }
        let add = self.suggestions(&outcome.records);
        if !add.is_empty() {
            let quoted: Vec<String> =
                add.iter().map(|r| format!("\"{r}\"")).collect();
            let _ = writeln!(
                out,
                "cordon: to let it through, add to the policy: \
                 allow_hosts = [{}] (or --allow-host {})",
                quoted.join(", "),
                add.join(" --allow-host ")
            );
        }
        out
    }

    /// Appends one `egress` line per request to the events file.
    pub fn write_events(
        &self,
        out: &Output,
        outcome: &Traffic,
    ) -> anyhow::Result<()> {
        let mut text = String::new();
        for r in &outcome.records {
            let line = json!({
                "type": "egress",
                "time_ms": r.time_ms,
                "host": r.host,
                "port": r.port,
                "method": r.method,
                "decision": r.decision.name(),
                "reason": r.reason,
                "sni": r.sni,
                "bytes_up": r.bytes_up,
                "bytes_down": r.bytes_down,
            });
            let _ = writeln!(text, "{line}");
        }
        out.write_with("the events file", |w| w.write_all(text.as_bytes()))
    }

    /// With `--learn`, writes the narrowest policy that would have let
    /// the run through: the destinations reached, each with its port,
    /// and the directories of writes refused outside the workspace.
    pub fn write_learned(
        &self,
        out: Option<&Output>,
        report: &RunReport,
        outcome: &Traffic,
    ) -> anyhow::Result<Option<String>> {
        let Some(out) = out else { return Ok(None) };
        let mut hosts = Vec::new();
        for r in &outcome.records {
            if r.decision == Decision::Refused || r.port == 0 {
                continue;
            }
            let rule = format!("{}:{}", r.host, r.port);
            if !hosts.contains(&rule) {
                hosts.push(rule);
            }
        }
        let resolve = self.mappings_used(outcome);
        let rw = refused_writes(report);
        let text = crate::policy::render_learned(
            &shell_line(&report.command),
            &hosts,
            &resolve,
            &rw,
        );
        out.write_with("the learned policy", |w| {
            w.write_all(text.as_bytes())
        })?;
        Ok(Some(format!(
            "cordon: wrote the policy {} ({} host(s), {} writable path(s))",
            out.path().display(),
            hosts.len(),
            rw.len()
        )))
    }
}

impl Egress {
    /// The `--resolve` mappings of names the proxy let through, as
    /// `NAME=IP`.
    fn mappings_used(&self, outcome: &Traffic) -> Vec<String> {
        let reached = |name: &str| {
            outcome
                .records
                .iter()
                .any(|r| r.decision != Decision::Refused && r.host == name)
        };
        self.resolve
            .iter()
            .filter(|(name, _)| reached(name))
            .map(|(name, ip)| format!("{name}={ip}"))
            .collect()
    }
}

/// The command as a shell would take it, for a comment.
fn shell_line(command: &[String]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c);
    let words: Vec<String> = command
        .iter()
        .map(|word| {
            if !word.is_empty() && word.chars().all(plain) {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', "'\\''").replace('\n', " "))
            }
        })
        .collect();
    words.join(" ")
}

/// The directories of writes the sandbox refused outside the
/// workspace: an existing directory, never `/`.
fn refused_writes(report: &RunReport) -> Vec<PathBuf> {
    let Some(events) = &report.events else { return Vec::new() };
    let mut dirs = Vec::new();
    for file in &events.files {
        let refused = file.outcome == Outcome::Denied
            && file.access != FileAccess::Read
            && file.zone != Zone::Workspace;
        if !refused {
            continue;
        }
        let path = Path::new(&file.path);
        let dir = if path.is_dir() { Some(path) } else { path.parent() };
        match dir {
            Some(dir) if dir.is_dir() && dir != Path::new("/") => {
                if !dirs.iter().any(|d: &PathBuf| d == dir) {
                    dirs.push(dir.to_path_buf());
                }
            }
            _ => tracing::warn!(
                "--learn: the refused write to {} has no directory to allow",
                file.path
            ),
        }
    }
    dirs
}

/// Adds the `egress` section to the JSON of a report.
pub fn with_section(report: &RunReport, section: Option<Value>) -> Value {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    if let (Some(section), Value::Object(map)) = (section, &mut value) {
        map.insert("egress".into(), section);
    }
    value
}
