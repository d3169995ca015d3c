//! The JSON scan report: cordon's wire format for other programs.
//!
//! `cordon scan --format json A B ...` writes one JSON object, pretty
//! printed, followed by a newline. It is exactly the serde form of
//! [`ScanReport`]. The format is versioned: fields may be added in any
//! release, and readers must ignore fields they do not know; a field is
//! never renamed, removed or given another type without a new `version`.
//!
//! # The report
//!
//! - `version` (integer): the format version, [`SCAN_FORMAT_VERSION`],
//!   now `1`.
//! - `packages` (array): one entry per target, in the order the targets
//!   were given.
//!
//! # A package entry
//!
//! Every field is always present; those that can be unknown are `null`.
//!
//! - `target` (string): the target exactly as given on the command line.
//! - `ecosystem` (string or `null`): `"npm"`, `"pypi"`, `"crates"` or
//!   `"rubygems"`; `null` when it could not be told.
//! - `name` (string or `null`): the package's name from its own
//!   metadata; `null` when it has none or could not be read.
//! - `version` (string or `null`): the package's version from its own
//!   metadata; `null` likewise.
//! - `verdict` (string or `null`): `"clean"`, `"suspicious"` or
//!   `"malicious"`; `null` exactly when the package could not be read.
//! - `score` (integer): the score behind the verdict, 0 or more; 0 when
//!   the package could not be read.
//! - `summary` (string or `null`): for a suspicious or malicious
//!   package, one sentence that says why: the file whose findings weigh
//!   most, when its code runs, and its strongest findings; `null` for a
//!   clean or unreadable package.
//! - `findings` (array): the findings, ordered by path, then line;
//!   empty when there are none.
//! - `files` (integer): how many files were read and scanned.
//! - `suppressed` (integer): how many findings the user's suppressions
//!   (`--ignore`, `[[scan.ignore]]` in `cordon.toml`) removed before the
//!   score was counted; 0 when none did.
//! - `error` (string or `null`): what went wrong reading the package, as
//!   one line of text; `null` when nothing did.
//! - `source` (string or `null`): where a target that the user did not
//!   name came from: the lockfile that pins it and, where
//!   the lockfile says, the packages that pull it in, as in
//!   `"package-lock.json, via express"`. `null` for a target given on
//!   the command line. A lockfile's dependencies have `target`s written
//!   as registry specs (`"npm:left-pad@1.3.0"`, `"pypi:six==1.16.0"`,
//!   `"crates:itoa@1.0.11"`). Reports written before this field was
//!   added lack it; read a missing `source` as `null`.
//!
//! A package that could not be read has `verdict: null`, a non-null
//! `error`, no findings and a score of 0.
//!
//! # A finding
//!
//! Every field is always present.
//!
//! - `rule` (string): the stable id of the rule that matched, such as
//!   `"py-exec-decoded"`.
//! - `severity` (string): `"info"`, `"low"`, `"medium"`, `"high"` or
//!   `"critical"`.
//! - `path` (string): the file's path inside the package, `/`-separated.
//! - `line` (integer): the 1-based line where the match starts; 0 for
//!   a finding about an archive entry as a whole (a symlink, a name
//!   that leaves the package), which has no place in a text.
//! - `column` (integer): the 1-based column, counted in Unicode
//!   characters, where the match starts; 0 when `line` is.
//! - `message` (string): what the rule saw, in one sentence.
//! - `snippet` (string): the source line or lines that show the match,
//!   starting at `line`; may be empty. A long first line is cut to a
//!   window around the match, marked with `…`.
//! - `snippet_column` (integer): the 1-based column, in characters,
//!   where the match starts in the first line of `snippet`; the same as
//!   `column` unless that line was cut; 0 when `snippet` is empty.
//! - `role` (string): when the file's code runs: `"install"`,
//!   `"import"`, `"other"`, `"test"`, `"docs"`, `"example"` or
//!   `"tooling"` (CI configuration, makefiles, release scripts).
//!
//! Strings are the package's own text, unescaped beyond JSON's syntax: a
//! reader that prints them to a terminal must escape control and
//! bidirectional characters itself.
//!
//! # Example
//!
//! ```json
//! {
//!   "version": 1,
//!   "packages": [
//!     {
//!       "target": "evil-1.0.tar.gz",
//!       "ecosystem": "pypi",
//!       "name": "evil",
//!       "version": "1.0",
//!       "verdict": "malicious",
//!       "score": 85,
//!       "findings": [
//!         {
//!           "rule": "py-exec-decoded",
//!           "severity": "high",
//!           "path": "setup.py",
//!           "line": 12,
//!           "column": 5,
//!           "message": "exec() of a base64-decoded string",
//!           "snippet": "    exec(base64.b64decode(payload))",
//!           "role": "install"
//!         }
//!       ],
//!       "files": 14,
//!       "error": null
//!     },
//!     {
//!       "target": "broken.zip",
//!       "ecosystem": null,
//!       "name": null,
//!       "version": null,
//!       "verdict": null,
//!       "score": 0,
//!       "findings": [],
//!       "files": 0,
//!       "error": "cannot read `broken.zip`: truncated archive"
//!     }
//!   ]
//! }
//! ```

use std::io::{self, Write};

#[cfg(doc)]
use crate::model::SCAN_FORMAT_VERSION;
use crate::model::ScanReport;

/// Writes `report` in the JSON wire format described above.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::model::{
        Ecosystem, Finding, PackageReport, Role, Severity, Verdict,
    };

    fn report() -> ScanReport {
        let finding = Finding {
            rule: "js-eval-remote".into(),
            severity: Severity::Critical,
            path: "lib/index.js".into(),
            line: 3,
            column: 1,
            message: "eval() of code fetched over the network".into(),
            snippet: "eval(await (await fetch(u)).text())".into(),
            snippet_column: 1,
            role: Role::Import,
        };

        let evil = PackageReport {
            target: "npm:evil@1.0.0".into(),
            ecosystem: Some(Ecosystem::Npm),
            name: Some("evil".into()),
            version: Some("1.0.0".into()),
            verdict: Some(Verdict::Malicious),
            score: 120,
            summary: Some("index.js: eval() of fetched code".into()),
            findings: vec![finding],
            files: 3,
            suppressed: 0,
            error: None,
            source: None,
        };

        let broken = PackageReport::failed("b.tgz", "truncated gzip".into());
        ScanReport::new(vec![evil, broken])
    }

    fn written(report: &ScanReport) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn output_reads_back_as_the_same_report() {
        let report = report();
        let text = written(&report);
        let back: ScanReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn every_contract_field_is_present_including_nulls() {
        let value: Value = serde_json::from_str(&written(&report())).unwrap();
        assert_eq!(value["version"], 1);

        let keys = [
            "target",
            "ecosystem",
            "name",
            "version",
            "verdict",
            "score",
            "summary",
            "findings",
            "files",
            "suppressed",
            "error",
            "source",
        ];
        for package in value["packages"].as_array().unwrap() {
            let package = package.as_object().unwrap();
            for key in keys {
                assert!(
                    package.contains_key(key),
                    "no `{key}` in {package:?}"
                );
            }
        }

        let evil = &value["packages"][0];
        assert_eq!(evil["verdict"], "malicious");
        assert_eq!(evil["ecosystem"], "npm");
        assert!(evil["error"].is_null());
        let finding = &evil["findings"][0];
        for key in ["rule", "severity", "path", "line", "message"] {
            assert!(!finding[key].is_null(), "no `{key}` in {finding}");
        }
        assert_eq!(finding["severity"], "critical");
        assert_eq!(finding["role"], "import");

        let broken = &value["packages"][1];
        for key in ["ecosystem", "name", "version", "verdict"] {
            assert!(broken[key].is_null(), "`{key}` is not null: {broken}");
        }
        assert_eq!(broken["error"], "truncated gzip");
        assert_eq!(broken["findings"], Value::Array(Vec::new()));
    }

    #[test]
    fn hostile_strings_stay_valid_json() {
        let mut report = report();
        report.packages[0].findings[0].snippet =
            "\u{1b}[2J\u{202e}\"\\\n\u{0}".into();
        let text = written(&report);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{0}'));
        let back: ScanReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
    }
}
