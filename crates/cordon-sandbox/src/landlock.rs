//! Landlock, the second fence: reading and executing everywhere, writing
//! only in the workspace, `/tmp`, the empty home, `--rw` paths and the
//! devices, and (with a private network) no TCP bind or connect.
//!
//! Landlock is best-effort: what the running kernel cannot enforce is
//! reported as missing, unless another layer covers it. UDP is not
//! covered before Landlock ABI 10, nor connecting to socket files before
//! ABI 9; the private network namespace stops the one and the seccomp
//! filter refuses Unix sockets on such kernels, so the layer is still
//! full there and its details say who stands in.

use std::path::{Path, PathBuf};

use cordon_report::run::{Enforcement, Layer, LayerKind};
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible,
    NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope,
};

use crate::error::Error;

/// The newest ABI this code asks for; older kernels get what they have.
const TARGET: ABI = ABI::V10;

/// What Landlock is asked to enforce.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Trees the command may write to, as paths inside the sandbox.
    pub writable: Vec<PathBuf>,
    /// Whether TCP (and UDP, where the kernel can) is refused.
    pub deny_network: bool,
    /// TCP ports the command may still connect to: cordon's own
    /// listeners in the sandbox's network namespace.
    pub tcp_ports: Vec<u16>,
    /// UDP ports the command may still send to (with kernels that
    /// confine UDP, which then also allow binding an ephemeral port).
    pub udp_ports: Vec<u16>,
}

/// Whether the kernel of `abi` can refuse connecting to socket files
/// outside the writable trees (`LANDLOCK_ACCESS_FS_RESOLVE_UNIX`).
pub fn confines_unix_sockets(abi: i32) -> bool {
    abi >= 9
}

/// What the kernel of `abi` leaves out of `plan`, in a few words each.
pub fn missing(abi: i32, deny_network: bool) -> Vec<String> {
    let mut missing = Vec::new();
    let mut lacks = |below: i32, what: &str| {
        if abi < below {
            missing.push(what.to_owned());
        }
    };
    lacks(2, "refer");
    lacks(3, "truncate");
    if deny_network {
        lacks(4, "tcp");
    }
    lacks(5, "device ioctl");
    lacks(6, "signal and abstract socket scopes");
    lacks(9, "unix socket connect");
    if deny_network {
        lacks(10, "udp");
    }
    missing
}

/// Which other layer covers a gap of Landlock's, when one does: UDP is
/// asked to be refused only with a private network namespace, which
/// stops it, and the seccomp filter refuses Unix sockets whenever
/// Landlock cannot confine them.
fn covered_elsewhere(gap: &str) -> Option<&'static str> {
    match gap {
        "udp" => Some("the private network namespace stops it"),
        "unix socket connect" => Some("seccomp refuses unix sockets"),
        _ => None,
    }
}

/// What the kernel of `abi` leaves out of `plan` that no other layer
/// covers: when this is empty, a partly enforced ruleset is still all
/// the layer promised.
pub fn uncovered(abi: i32, deny_network: bool) -> Vec<String> {
    let mut gaps = missing(abi, deny_network);
    gaps.retain(|gap| covered_elsewhere(gap).is_none());
    gaps
}

/// The layer as the kernel of `abi` will enforce `plan`.
pub fn layer(abi: i32, plan: &Plan) -> Layer {
    let mut details = vec![format!("kernel landlock abi {abi}")];
    let enforcement = if abi <= 0 {
        Enforcement::None {
            reason: "landlock is not available in this kernel".into(),
        }
    } else {
        let mut missing = missing(abi, plan.deny_network);
        missing.retain(|gap| match covered_elsewhere(gap) {
            Some(by) => {
                details.push(format!("{gap} not covered: {by}"));
                false
            }
            None => true,
        });
        if missing.is_empty() {
            Enforcement::Full
        } else {
            Enforcement::Partial { missing }
        }
    };
    details.extend(
        plan.writable.iter().map(|p| format!("writable: {}", p.display())),
    );
    if plan.deny_network {
        details.push("tcp bind and connect refused".into());
        if !plan.tcp_ports.is_empty() {
            details.push(format!(
                "tcp connect allowed to cordon's listeners, ports {}",
                ports(&plan.tcp_ports)
            ));
        }
    }
    Layer { layer: LayerKind::Landlock, enforcement, details }
}

/// Restricts the calling process. Returns whether the kernel enforced
/// the rules fully (`true`) or partly (`false`); not enforcing them at
/// all is an error unless `abi` said Landlock is missing.
pub fn apply(plan: &Plan, abi: i32) -> Result<bool, Error> {
    if abi <= 0 {
        return Ok(false);
    }
    let status = restrict(plan).map_err(|err| {
        Error::Setup(format!("cannot enforce the landlock rules: {err}"))
    })?;
    match status {
        RulesetStatus::FullyEnforced => Ok(true),
        RulesetStatus::PartiallyEnforced => Ok(false),
        RulesetStatus::NotEnforced => Err(Error::Setup(
            "the kernel did not enforce the landlock rules".into(),
        )),
    }
}

fn restrict(plan: &Plan) -> Result<RulesetStatus, Box<dyn std::error::Error>> {
    let all = AccessFs::from_all(TARGET);
    let read = AccessFs::from_read(TARGET);
    let device =
        read | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?
        .scope(Scope::from_all(TARGET))?;
    if plan.deny_network {
        ruleset = ruleset.handle_access(AccessNet::from_all(TARGET))?;
    }
    let mut created = ruleset.create()?;

    created = add(created, Path::new("/"), read)?;
    created = add(created, Path::new("/dev"), device)?;
    created = add(created, Path::new("/dev/shm"), all)?;
    for path in &plan.writable {
        created = add(created, path, all)?;
    }
    if plan.deny_network {
        created = allow_ports(created, plan)?;
    }
    for fd in 0..=2 {
        if crate::sys::isatty(fd) {
            let path = PathBuf::from(format!("/proc/self/fd/{fd}"));
            created = add(created, &path, device)?;
        }
    }
    Ok(created.restrict_self()?.ruleset)
}

/// Lets the command reach cordon's own sockets in its namespace.
fn allow_ports(
    mut created: landlock::RulesetCreated,
    plan: &Plan,
) -> Result<landlock::RulesetCreated, Box<dyn std::error::Error>> {
    for &port in &plan.tcp_ports {
        created =
            created.add_rule(NetPort::new(port, AccessNet::ConnectTcp))?;
    }
    if !plan.udp_ports.is_empty() {
        // The kernel binds an unbound socket to an ephemeral port
        // before it sends: port 0 stands for any of them.
        created = created.add_rule(NetPort::new(0, AccessNet::BindUdp))?;
    }
    for &port in &plan.udp_ports {
        let send = NetPort::new(port, AccessNet::ConnectSendUdp);
        created = created.add_rule(send)?;
    }
    Ok(created)
}

/// "53, 80, 443".
fn ports(list: &[u16]) -> String {
    let words: Vec<String> = list.iter().map(u16::to_string).collect();
    words.join(", ")
}

/// Adds a rule for `path` when it exists, narrowed to the rights that
/// make sense for a file when it is not a directory.
fn add(
    created: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
) -> Result<landlock::RulesetCreated, Box<dyn std::error::Error>> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(created);
    };
    let access = if metadata.is_dir() {
        access
    } else {
        access & AccessFs::from_file(TARGET)
    };
    let fd = PathFd::new(path)?;
    Ok(created.add_rule(PathBeneath::new(fd, access))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_other_layers_cover_leave_the_layer_full() {
        let plan =
            Plan { writable: vec![], deny_network: true, ..Plan::default() };
        let layer = layer(7, &plan);
        assert_eq!(layer.enforcement, Enforcement::Full);
        assert!(layer.details.iter().any(|d| d.starts_with("udp")));
        let old = super::layer(3, &plan);
        assert!(matches!(old.enforcement, Enforcement::Partial { .. }));
    }

    #[test]
    fn old_kernels_are_partial_and_say_what_is_missing() {
        assert_eq!(missing(7, true), ["unix socket connect", "udp"]);
        assert_eq!(missing(7, false), ["unix socket connect"]);
        assert_eq!(missing(9, false), Vec::<String>::new());
        assert!(missing(3, true).contains(&"tcp".to_owned()));
        let plan =
            Plan { writable: vec![], deny_network: true, ..Plan::default() };
        assert!(matches!(
            layer(0, &plan).enforcement,
            Enforcement::None { .. }
        ));
        assert_eq!(layer(10, &plan).enforcement, Enforcement::Full);
    }
}
