//! cordon's SARIF output, checked against the official SARIF 2.1.0 JSON
//! schema (vendored in `tests/data`, see its README), with formats such as
//! `uri` checked too. The last tests make sure the check itself bites: a
//! validator that accepted anything would prove nothing.

use cordon_report::{
    Ecosystem, Finding, Format, PackageReport, RenderOptions, Role, RuleInfo,
    ScanReport, Severity, Verdict, render_scan,
};
use jsonschema::{Draft, Validator};
use serde_json::Value;

const SCHEMA: &str = include_str!("data/sarif-schema-2.1.0.json");

fn validator() -> Validator {
    let schema: Value =
        serde_json::from_str(SCHEMA).expect("the vendored schema is JSON");
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the vendored schema compiles")
}

/// Every way `doc` breaks the schema, one per line.
fn violations(doc: &Value) -> String {
    let validator = validator();
    let errors = validator.iter_errors(doc);
    errors.map(|e| format!("{} at {}\n", e, e.instance_path())).collect()
}

fn finding(rule: &str, severity: Severity, path: &str, line: u32) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        path: path.into(),
        line,
        column: 5,
        message: format!("{rule} matched"),
        snippet: "    exec(base64.b64decode(payload))".into(),
        snippet_column: 5,
        role: Role::Install,
    }
}

fn rules() -> Vec<RuleInfo> {
    let rule = |id: &str, severity| RuleInfo {
        id: id.into(),
        severity,
        summary: format!("what {id} looks for"),
        help: format!("why {id} matters\n\nand what to do"),
    };
    vec![
        rule("py-exec-decoded", Severity::High),
        rule("js-install-script", Severity::Medium),
        rule("never-matched", Severity::Info),
        // The same id twice must not make the rules array non-unique.
        rule("py-exec-decoded", Severity::High),
    ]
}

/// A report with every shape a SARIF log must carry: several packages
/// and severities, a rule the catalogue does not describe, an unknown
/// line, hostile names and snippets, and packages that could not be read.
fn report() -> ScanReport {
    let hostile = Finding {
        snippet: "x = '\u{202e}' \u{1b}[2J \u{0} \"\\".into(),
        ..finding(
            "py-exec-decoded",
            Severity::Critical,
            "a b/#?%\u{202e}.py",
            1,
        )
    };
    let evil = PackageReport {
        target: "pypi:evil==1.0".into(),
        ecosystem: Some(Ecosystem::Pypi),
        name: Some("evil".into()),
        version: Some("1.0".into()),
        verdict: Some(Verdict::Malicious),
        score: 130,
        summary: None,
        findings: vec![
            finding("py-exec-decoded", Severity::High, "setup.py", 12),
            finding("not-in-catalogue", Severity::Low, "evil/__init__.py", 3),
            finding("js-install-script", Severity::Medium, "package.json", 0),
            hostile,
        ],
        files: 9,
        suppressed: 0,
        error: None,
        source: None,
    };
    let clean = PackageReport {
        target: "/abs/path/to/pkg".into(),
        ecosystem: Some(Ecosystem::Npm),
        name: None,
        version: None,
        verdict: Some(Verdict::Clean),
        score: 0,
        summary: None,
        findings: vec![finding("never-matched", Severity::Info, "x.js", 1)],
        files: 2,
        suppressed: 0,
        error: None,
        source: None,
    };
    let broken = PackageReport::failed("bad.tgz", "truncated gzip".into());
    let odd = PackageReport::failed("", "no such file: `\u{1b}`".into());
    ScanReport::new(vec![evil, clean, broken, odd])
}

fn sarif(report: &ScanReport) -> Value {
    let opts = RenderOptions {
        tool_version: "0.1.0".into(),
        ..RenderOptions::default()
    };
    let mut out = Vec::new();
    render_scan(Format::Sarif, report, &rules(), &opts, &mut out)
        .expect("rendering to memory cannot fail");
    serde_json::from_slice(&out).expect("SARIF output is JSON")
}

#[test]
fn output_validates_against_the_official_schema() {
    let doc = sarif(&report());
    assert_eq!(violations(&doc), "", "{doc:#}");
}

#[test]
fn an_empty_report_validates_too() {
    let doc = sarif(&ScanReport::new(Vec::new()));
    assert_eq!(violations(&doc), "", "{doc:#}");
    assert_eq!(doc["runs"][0]["results"], Value::Array(Vec::new()));
}

#[test]
fn results_point_at_their_rules_and_files() {
    let doc = sarif(&report());
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> =
        rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "py-exec-decoded",
            "js-install-script",
            "never-matched",
            "not-in-catalogue"
        ]
    );

    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    let first = &run["results"][0];
    assert_eq!(first["level"], "error");
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "pypi%3Aevil==1.0/setup.py"
    );
    assert_eq!(location["region"]["startLine"], 12);
    assert_eq!(location["region"]["startColumn"], 5);
    assert_eq!(first["properties"]["target"], "pypi:evil==1.0");
    assert_eq!(first["properties"]["path"], "setup.py");
}

#[test]
fn unreadable_packages_are_error_notifications() {
    let doc = sarif(&report());
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["message"]["text"],
        "cannot scan `bad.tgz`: truncated gzip"
    );
}

/// Applies `change` to a valid log and expects the schema to reject it.
fn rejected(what: &str, change: impl FnOnce(&mut Value)) {
    let mut doc = sarif(&report());
    change(&mut doc);
    assert_ne!(violations(&doc), "", "a log with {what} was accepted");
}

#[test]
fn the_schema_check_rejects_broken_logs() {
    rejected("an unknown level", |doc| {
        doc["runs"][0]["results"][0]["level"] = "critical".into();
    });
    rejected("a line number of zero", |doc| {
        let location = &mut doc["runs"][0]["results"][0]["locations"][0];
        location["physicalLocation"]["region"]["startLine"] = 0.into();
    });
    rejected("a tool without a name", |doc| {
        let driver = doc["runs"][0]["tool"]["driver"].as_object_mut().unwrap();
        driver.remove("name");
    });
    rejected("a null optional property", |doc| {
        doc["runs"][0]["tool"]["driver"]["informationUri"] = Value::Null;
    });
    rejected("an unknown property", |doc| {
        doc["runs"][0]["results"][0]["severity"] = "high".into();
    });
    rejected("another SARIF version", |doc| {
        doc["version"] = "2.0.0".into();
    });
}

/// Every `uri` in `doc`, wherever it is.
fn uris(doc: &Value, found: &mut Vec<String>) {
    match doc {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("uri", Value::String(uri)) => found.push(uri.clone()),
                    _ => uris(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| uris(item, found)),
        _ => {}
    }
}

/// The URIs in `doc` that are not valid URI references. SARIF's schema
/// is draft 4, which has no `uri-reference` format, so the schema alone
/// lets any string through as an artifact's URI; draft 7 checks it.
fn bad_uris(doc: &Value) -> Vec<String> {
    let format =
        serde_json::json!({"type": "string", "format": "uri-reference"});
    let check = jsonschema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .build(&format)
        .expect("the format schema compiles");
    let mut found = Vec::new();
    uris(doc, &mut found);
    assert!(found.len() > 10, "too few URIs found: {found:?}");
    found.retain(|uri| !check.is_valid(&Value::from(uri.as_str())));
    found
}

#[test]
fn every_uri_is_a_valid_uri_reference() {
    let doc = sarif(&report());
    assert_eq!(bad_uris(&doc), Vec::<String>::new());
}

#[test]
fn the_uri_check_rejects_malformed_uris() {
    let bad = Value::from("a b%zz");
    let mut doc = sarif(&report());
    let location = &mut doc["runs"][0]["results"][0]["locations"][0];
    location["physicalLocation"]["artifactLocation"]["uri"] = bad;
    assert_eq!(bad_uris(&doc), ["a b%zz"]);
}
