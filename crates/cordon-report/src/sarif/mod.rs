//! The SARIF 2.1.0 scan report, for code-scanning dashboards.
//!
//! `cordon scan --format sarif` writes one SARIF log with one run of the
//! tool `cordon`:
//!
//! - `tool.driver.rules` lists every rule the caller passes (normally the
//!   whole catalogue), then any rule a finding names that was not among
//!   them. Each has its `id`, its summary as `shortDescription`, its help
//!   as `fullDescription` and `help`, its severity as
//!   `defaultConfiguration.level`, and in its property bag the tags
//!   `security` and `supply-chain`, cordon's own `severity` and, as GitHub
//!   code scanning reads it, a numeric `security-severity`.
//! - `results` holds one result per finding, in report order, with
//!   `ruleId`, `ruleIndex` into the rules above, `level` (critical and
//!   high are `error`, medium is `warning`, low and info are `note`),
//!   `message.text`, the package as `analysisTarget`, and one location
//!   whose region has `startLine`, `startColumn` and the snippet. Columns
//!   count Unicode code points, as `columnKind` says. The property bag
//!   repeats the target, the path inside the package, the file's role and
//!   what is known of the package's ecosystem, name and version.
//! - File URIs join the target and the path inside the package; see
//!   [`uri`](self#uris) below.
//! - A package that could not be read becomes a notification of level
//!   `error` in `invocations[0].toolExecutionNotifications`, and makes
//!   `executionSuccessful` false: a dashboard must not take a package it
//!   never saw for a clean one.
//!
//! # URIs
//!
//! A dashboard merges results at the same location, so every file of
//! every package gets a URI of its own: the target followed by the path
//! inside the package (`vendor/evil/setup.py`,
//! `dist/evil-1.0.tar.gz/setup.py`), or a `file://` URI for an absolute
//! target. For a directory inside the scanned repository this is the
//! file's path in the repository, so the dashboard can show the code.
//! Unsafe bytes, and `:`, are percent-encoded.

pub mod model;
mod uri;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde_json::Value;

use crate::model::{Finding, PackageReport, RuleInfo, ScanReport, Severity};

use self::model::{
    ArtifactContent, ArtifactLocation, ColumnKind, Invocation, Level,
    Location, Log, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, ReportingDescriptorReference, Run, SARIF_SCHEMA,
    SARIF_VERSION, SarifResult, Tool, ToolComponent,
};

/// The tool's name in the log.
const TOOL_NAME: &str = "cordon";

/// The id of the notification raised for a package that could not be
/// read.
pub const UNREADABLE_PACKAGE: &str = "unreadable-package";

/// Writes `report` as a SARIF log, naming `tool_version` as cordon's
/// version.
pub fn render(
    report: &ScanReport,
    rules: &[RuleInfo],
    tool_version: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let log = log(report, rules, tool_version);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The SARIF log for `report`.
pub fn log(
    report: &ScanReport,
    rules: &[RuleInfo],
    tool_version: &str,
) -> Log {
    let catalogue = Catalogue::new(rules, report);
    let results = report
        .packages
        .iter()
        .flat_map(|p| p.findings.iter().map(move |f| (p, f)))
        .map(|(package, finding)| result(package, finding, &catalogue))
        .collect();

    let driver = ToolComponent {
        name: TOOL_NAME.to_string(),
        version: (!tool_version.is_empty()).then(|| tool_version.to_string()),
        information_uri: None,
        rules: catalogue.descriptors,
        notifications: vec![unreadable_descriptor()],
    };
    let run = Run {
        tool: Tool { driver },
        invocations: vec![invocation(report)],
        column_kind: ColumnKind::UnicodeCodePoints,
        results,
    };
    Log {
        schema: SARIF_SCHEMA.to_string(),
        version: SARIF_VERSION.to_string(),
        runs: vec![run],
    }
}

/// The rules of the run, and where each id is among them.
struct Catalogue {
    descriptors: Vec<ReportingDescriptor>,
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// The rules given, then those that findings name but the caller did
    /// not describe, each id once (SARIF wants the array's items unique).
    fn new(rules: &[RuleInfo], report: &ScanReport) -> Catalogue {
        let mut catalogue =
            Catalogue { descriptors: Vec::new(), index: HashMap::new() };
        for rule in rules {
            catalogue.add(&rule.id, || described(rule));
        }

        let findings = report.packages.iter().flat_map(|p| &p.findings);
        for finding in findings {
            catalogue.add(&finding.rule, || bare(finding));
        }
        catalogue
    }

    fn add(
        &mut self,
        id: &str,
        descriptor: impl FnOnce() -> ReportingDescriptor,
    ) {
        if !self.index.contains_key(id) {
            self.index.insert(id.to_string(), self.descriptors.len());
            self.descriptors.push(descriptor());
        }
    }
}

/// A rule as the catalogue describes it.
fn described(rule: &RuleInfo) -> ReportingDescriptor {
    let text =
        |text: &str| MultiformatMessageString { text: text.to_string() };
    ReportingDescriptor {
        id: rule.id.clone(),
        short_description: Some(text(&rule.summary)),
        full_description: Some(text(&rule.help)),
        help: Some(text(&rule.help)),
        default_configuration: Some(ReportingConfiguration {
            level: level(rule.severity),
        }),
        properties: Some(rule_properties(rule.severity)),
    }
}

/// A rule known only from one of its findings.
fn bare(finding: &Finding) -> ReportingDescriptor {
    ReportingDescriptor {
        id: finding.rule.clone(),
        short_description: None,
        full_description: None,
        help: None,
        default_configuration: Some(ReportingConfiguration {
            level: level(finding.severity),
        }),
        properties: Some(rule_properties(finding.severity)),
    }
}

fn rule_properties(severity: Severity) -> PropertyBag {
    let mut values = BTreeMap::new();
    values.insert("severity".to_string(), Value::from(severity.to_string()));
    if let Some(score) = security_severity(severity) {
        values.insert("security-severity".to_string(), Value::from(score));
    }
    let tags = vec!["security".to_string(), "supply-chain".to_string()];
    PropertyBag { tags, values }
}

/// The SARIF level of a finding of `severity`.
pub fn level(severity: Severity) -> Level {
    match severity {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low | Severity::Info => Level::Note,
    }
}

/// A CVSS-like score on the scale GitHub code scanning reads from a
/// rule's `security-severity` (9.0 and up critical, 7.0 high, 4.0
/// medium, above 0 low); none for findings that are only informative.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

fn result(
    package: &PackageReport,
    finding: &Finding,
    catalogue: &Catalogue,
) -> SarifResult {
    let location = PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri::file_uri(&package.target, &finding.path),
        },
        region: region(finding),
    };

    SarifResult {
        rule_id: finding.rule.clone(),
        rule_index: catalogue.index[&finding.rule],
        level: level(finding.severity),
        message: Message { text: finding.message.clone() },
        analysis_target: Some(ArtifactLocation {
            uri: uri::target_uri(&package.target),
        }),
        locations: vec![Location { physical_location: location }],
        properties: Some(result_properties(package, finding)),
    }
}

/// Where in its file a finding is; none when its line is unknown (zero).
fn region(finding: &Finding) -> Option<Region> {
    let snippet = &finding.snippet;
    (finding.line > 0).then(|| Region {
        start_line: finding.line,
        start_column: (finding.column > 0).then_some(finding.column),
        snippet: (!snippet.is_empty())
            .then(|| ArtifactContent { text: snippet.clone() }),
    })
}

fn result_properties(
    package: &PackageReport,
    finding: &Finding,
) -> PropertyBag {
    let mut values = package_properties(package);
    values.insert("path".to_string(), Value::from(finding.path.as_str()));
    values.insert("role".to_string(), Value::from(finding.role.to_string()));
    PropertyBag { tags: Vec::new(), values }
}

/// The target, and the package's ecosystem, name and version where known.
fn package_properties(package: &PackageReport) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    values.insert("target".to_string(), Value::from(package.target.as_str()));

    if let Some(ecosystem) = package.ecosystem {
        values.insert(
            "ecosystem".to_string(),
            Value::from(ecosystem.to_string()),
        );
    }
    if let Some(name) = &package.name {
        values.insert("packageName".to_string(), Value::from(name.as_str()));
    }
    if let Some(version) = &package.version {
        values.insert(
            "packageVersion".to_string(),
            Value::from(version.as_str()),
        );
    }
    values
}

/// The one invocation: successful unless some package could not be read,
/// each such package being a notification.
fn invocation(report: &ScanReport) -> Invocation {
    let notifications: Vec<Notification> = report
        .packages
        .iter()
        .filter_map(|p| p.error.as_deref().map(|e| unreadable(p, e)))
        .collect();
    Invocation {
        execution_successful: notifications.is_empty(),
        tool_execution_notifications: notifications,
    }
}

fn unreadable_descriptor() -> ReportingDescriptor {
    let text = "A package could not be read, so it was not scanned.";
    ReportingDescriptor {
        id: UNREADABLE_PACKAGE.to_string(),
        short_description: Some(MultiformatMessageString {
            text: text.to_string(),
        }),
        full_description: None,
        help: None,
        default_configuration: Some(ReportingConfiguration {
            level: Level::Error,
        }),
        properties: None,
    }
}

fn unreadable(package: &PackageReport, error: &str) -> Notification {
    let target = ArtifactLocation { uri: uri::target_uri(&package.target) };
    let location =
        PhysicalLocation { artifact_location: target, region: None };

    Notification {
        level: Level::Error,
        message: Message { text: unreadable_message(&package.target, error) },
        locations: vec![Location { physical_location: location }],
        descriptor: Some(ReportingDescriptorReference {
            id: UNREADABLE_PACKAGE.to_string(),
            index: 0,
        }),
        properties: Some(PropertyBag {
            tags: Vec::new(),
            values: package_properties(package),
        }),
    }
}

/// The error, naming the target unless it already does.
fn unreadable_message(target: &str, error: &str) -> String {
    if !target.is_empty() && error.contains(target) {
        error.to_string()
    } else {
        format!("cannot scan `{target}`: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            path: "index.js".into(),
            line: 1,
            column: 1,
            message: "m".into(),
            snippet: String::new(),
            snippet_column: 0,
            role: Role::Other,
        }
    }

    fn package(findings: Vec<Finding>) -> PackageReport {
        PackageReport { findings, ..PackageReport::failed("p", String::new()) }
    }

    #[test]
    fn severities_map_to_three_levels() {
        assert_eq!(level(Severity::Critical), Level::Error);
        assert_eq!(level(Severity::High), Level::Error);
        assert_eq!(level(Severity::Medium), Level::Warning);
        assert_eq!(level(Severity::Low), Level::Note);
        assert_eq!(level(Severity::Info), Level::Note);
    }

    #[test]
    fn each_rule_is_listed_once_and_unknown_ones_are_added() {
        let info = RuleInfo {
            id: "a".into(),
            severity: Severity::High,
            summary: "s".into(),
            help: "h".into(),
        };
        let findings =
            vec![finding("b", Severity::Low), finding("a", Severity::High)];
        let report = ScanReport::new(vec![package(findings)]);

        let log = log(&report, &[info.clone(), info], "1.2.3");
        let run = &log.runs[0];
        let ids: Vec<&str> =
            run.tool.driver.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(run.results[0].rule_index, 1);
        assert_eq!(run.results[1].rule_index, 0);
        assert_eq!(run.tool.driver.version.as_deref(), Some("1.2.3"));
    }

    #[test]
    fn a_run_without_errors_is_successful_and_has_no_notifications() {
        let mut clean = package(Vec::new());
        clean.error = None;
        let log = log(&ScanReport::new(vec![clean]), &[], "");

        let invocation = &log.runs[0].invocations[0];
        assert!(invocation.execution_successful);
        assert!(invocation.tool_execution_notifications.is_empty());
        assert_eq!(log.runs[0].tool.driver.version, None);
    }

    #[test]
    fn informative_rules_have_no_security_severity() {
        let info = rule_properties(Severity::Info);
        assert!(!info.values.contains_key("security-severity"));
        let high = rule_properties(Severity::High);
        assert_eq!(high.values["security-severity"], "8.0");
    }

    #[test]
    fn an_unreadable_package_is_named_once() {
        let named = "cannot read `a.zip`: bad header";
        assert_eq!(unreadable_message("a.zip", named), named);
        assert_eq!(
            unreadable_message("a.zip", "bad header"),
            "cannot scan `a.zip`: bad header"
        );
    }
}
