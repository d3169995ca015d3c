//! What the scan means for `cordon install`: the decision, what the
//! terminal shows of the flagged packages, and the combined report.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{InstallArgs, RefuseOn, Resolved};

/// What the scan means for the install.
pub(super) struct Decision {
    /// Whether the scan refuses the install.
    pub(super) refused: bool,
    /// Targets refused, with their verdicts.
    blocking: Vec<String>,
    /// Targets that could not be scanned.
    unreadable: Vec<String>,
}

impl Decision {
    /// The decision on `scan`; `unpinned` (what the scan could not
    /// fetch) refuses like a package that could not be read.
    pub(super) fn new(
        args: &InstallArgs,
        scan: &Value,
        unpinned: &[String],
    ) -> Decision {
        let mut decision = Decision {
            refused: false,
            blocking: Vec::new(),
            unreadable: Vec::new(),
        };
        for package in packages(scan) {
            let target = package["target"].as_str().unwrap_or("?").to_string();
            match package["verdict"].as_str() {
                Some("malicious") => decision.blocking.push(target),
                Some("suspicious")
                    if args.refuse_on == RefuseOn::Suspicious =>
                {
                    decision.blocking.push(target);
                }
                None => decision.unreadable.push(target),
                _ => {}
            }
        }
        decision.unreadable.extend(unpinned.iter().cloned());
        decision.refused =
            !decision.blocking.is_empty() || !decision.unreadable.is_empty();
        decision
    }
}

fn packages(scan: &Value) -> &[Value] {
    scan["packages"].as_array().map_or(&[], Vec::as_slice)
}

/// Prints the verdict of every package that is not clean, with its
/// findings, then a one-line tally.
pub(super) fn print_scan(scan: &Value, decision: &Decision) {
    let all = packages(scan);
    let mut clean = 0;
    for package in all {
        match package["verdict"].as_str() {
            Some("clean") => clean += 1,
            _ => eprint!("{}", describe_package(package)),
        }
    }
    eprintln!("cordon: {} packages scanned, {clean} clean", all.len());
    for target in &decision.unreadable {
        let target = cordon_report::terminal_safe(target, SHOWN_CHARS);
        eprintln!("cordon: {target} could not be scanned, so it is refused");
    }
}

/// How many characters of one line of a package's text are shown.
pub(super) const SHOWN_CHARS: usize = 200;

/// A string field of a scan report entry, made safe for a terminal:
/// targets, paths, messages and snippets are a package's own text.
fn field(value: &Value, key: &str) -> String {
    let text = value[key].as_str().unwrap_or("?");
    cordon_report::terminal_safe(text, SHOWN_CHARS)
}

/// A flagged package and its findings, in the report's order.
fn describe_package(package: &Value) -> String {
    let target = field(package, "target");
    let mut text = match package["verdict"].as_str() {
        Some(_) => {
            let (verdict, score) =
                (field(package, "verdict"), &package["score"]);
            format!("{target}: {verdict} (score {score})\n")
        }
        None => {
            format!("{target}: not scanned: {}\n", field(package, "error"))
        }
    };
    if package["summary"].is_string() {
        let _ = writeln!(text, "  {}", field(package, "summary"));
    }
    let findings =
        package["findings"].as_array().map_or(&[][..], Vec::as_slice);
    for finding in findings {
        let _ = writeln!(
            text,
            "  {} {} {}:{} {}",
            field(finding, "severity"),
            field(finding, "rule"),
            field(finding, "path"),
            finding["line"],
            field(finding, "message"),
        );
        let snippet = finding["snippet"].as_str().unwrap_or_default();
        for line in snippet.lines() {
            let line = cordon_report::terminal_safe(line, SHOWN_CHARS);
            let _ = writeln!(text, "      {line}");
        }
    }
    text
}

/// Everything the combined report holds.
pub(super) struct Outcome {
    pub(super) resolved: Resolved,
    pub(super) scan: Value,
    pub(super) decision: Decision,
    pub(super) run: Option<Value>,
}

impl Outcome {
    pub(super) fn to_json(&self, args: &InstallArgs) -> Value {
        let refused = self.decision.refused && args.force.is_none();
        let lockfile = self.resolved.lockfile.file_name();
        let forced = args.force.as_ref().filter(|_| self.decision.refused);
        json!({
            "version": 1,
            "install": {
                "manager": args.manager.name(),
                "args": args_json(args),
                "lockfile": lockfile.map(|name| name.to_string_lossy()),
                "unpinned": self.resolved.unpinned,
                "refused": refused,
                "blocking": self.decision.blocking,
                "unreadable": self.decision.unreadable,
                "forced": forced,
                "error": null,
            },
            "resolve": self.resolved.run,
            "scan": self.scan,
            "run": self.run,
        })
    }
}

/// The report of an install whose resolve step failed: nothing was
/// scanned or installed.
pub(super) fn failed_json(args: &InstallArgs, why: &str) -> Value {
    json!({
        "version": 1,
        "install": {
            "manager": args.manager.name(),
            "args": args_json(args),
            "lockfile": null,
            "unpinned": [],
            "refused": false,
            "blocking": [],
            "unreadable": [],
            "forced": null,
            "error": why,
        },
        "resolve": null,
        "scan": null,
        "run": null,
    })
}

/// The manager's arguments as JSON strings.
fn args_json(args: &InstallArgs) -> Vec<String> {
    args.args.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malicious_refuses_and_suspicious_only_when_asked() {
        let scan = json!({"packages": [
            {"target": "a", "verdict": "clean"},
            {"target": "b", "verdict": "suspicious"},
            {"target": "c", "verdict": null, "error": "truncated"},
        ]});
        let args = |extra: &[&str]| {
            let mut argv = extra.to_vec();
            argv.extend(["npm", "a"]);
            crate::install::tests::parse(argv)
        };

        let default = Decision::new(&args(&[]), &scan, &[]);
        let strict =
            Decision::new(&args(&["--refuse-on", "suspicious"]), &scan, &[]);
        let vcs = Decision::new(&args(&[]), &clean_scan(), &["x".into()]);

        assert!(default.refused);
        assert!(default.blocking.is_empty());
        assert_eq!(default.unreadable, ["c"]);
        assert_eq!(strict.blocking, ["b"]);
        assert!(!Decision::new(&args(&[]), &clean_scan(), &[]).refused);
        assert!(vcs.refused && vcs.unreadable == ["x"]);
    }

    fn clean_scan() -> Value {
        json!({"packages": [{"target": "a", "verdict": "clean"}]})
    }

    #[test]
    fn a_package_cannot_write_escapes_to_the_terminal() {
        let package = json!({
            "target": "npm:x@1", "verdict": "malicious", "score": 30,
            "summary": "bad\u{1b}[2J",
            "findings": [{"severity": "high", "rule": "r", "path": "a\u{202e}b",
                          "line": 3, "message": "m",
                          "snippet": "one\u{1b}]0;title\u{7}\ntwo"}],
        });

        let text = describe_package(&package);

        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(text.contains("npm:x@1: malicious (score 30)"), "{text}");
        assert!(text.contains("      two\n"), "{text}");
    }
}
