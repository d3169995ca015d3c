//! The terminal report: a header line per package, each finding with its
//! snippet in the manner of rustc's diagnostics, and a closing summary.
//!
//! ```text
//! evil-1.0.tar.gz (pypi evil@1.0): malicious, score 85, 14 files
//!
//! high[py-exec-decoded]: exec() of a base64-decoded string
//!   --> setup.py:12:5 (install)
//!    |
//! 12 |     exec(base64.b64decode(payload))
//!    |     ^^^^
//!
//! broken.zip: failed
//! error: cannot read `broken.zip`: truncated archive
//!
//! 2 packages: 0 clean, 0 suspicious, 1 malicious, 1 failed
//! ```
//!
//! Every string that came from a package is escaped and cut to a sane
//! length ([`crate::escape`]), so a hostile package cannot act on the
//! terminal through its report. At `--debug` each rule that matched is
//! explained once, under its first finding, with its summary and help.

mod snippet;

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use crate::RenderOptions;
use crate::escape::inline;
use crate::model::{Finding, PackageReport, RuleInfo, ScanReport, Verdict};
use crate::style::{Painter, Style};

use self::snippet::Snippet;

/// The most characters shown of a target, name, version, path, rule id
/// or message.
const MAX_FIELD: usize = 300;

/// The most characters shown of an error message or a line of help.
const MAX_TEXT: usize = 1000;

/// Writes `report` for a person at a terminal.
pub(crate) fn render(
    report: &ScanReport,
    rules: &[RuleInfo],
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut human = Human {
        out,
        paint: Painter::new(opts.color),
        rules: rules.iter().map(|rule| (rule.id.as_str(), rule)).collect(),
        debug: opts.debug,
        explained: HashSet::new(),
        after_blank: false,
    };
    for package in &report.packages {
        human.package(package)?;
    }
    human.summary(&report.packages)
}

/// The renderer's state while it writes one report.
struct Human<'a> {
    out: &'a mut dyn Write,
    paint: Painter,
    rules: HashMap<&'a str, &'a RuleInfo>,
    debug: bool,
    /// The rules already explained, at `--debug`.
    explained: HashSet<String>,
    /// Whether the last line written was blank.
    after_blank: bool,
}

impl Human<'_> {
    fn package(&mut self, package: &PackageReport) -> io::Result<()> {
        self.header(package)?;
        if let Some(source) = &package.source {
            writeln!(self.out, "  from: {}", inline(source, MAX_FIELD))?;
        }
        if let Some(error) = &package.error {
            let label = self.paint.paint(Style::Error, "error");
            writeln!(self.out, "{label}: {}", inline(error, MAX_TEXT))?;
        }

        for finding in &package.findings {
            writeln!(self.out)?;
            self.finding(finding)?;
        }
        if !package.findings.is_empty() {
            writeln!(self.out)?;
        }
        self.after_blank = !package.findings.is_empty();
        Ok(())
    }

    /// `target (ecosystem name@version): verdict, score N, N files`.
    fn header(&mut self, package: &PackageReport) -> io::Result<()> {
        write!(self.out, "{}", inline(&package.target, MAX_FIELD))?;
        if let Some(identity) = identity(package) {
            write!(self.out, " ({identity})")?;
        }

        let style = Style::Verdict(package.verdict);
        let Some(verdict) = package.verdict else {
            return writeln!(
                self.out,
                ": {}",
                self.paint.paint(style, "failed")
            );
        };
        let verdict = self.paint.paint(style, verdict);
        let files = plural(package.files, "file", "files");
        write!(self.out, ": {verdict}, score {}, {files}", package.score)?;
        if package.suppressed > 0 {
            write!(self.out, ", {} suppressed", package.suppressed)?;
        }
        writeln!(self.out)?;
        match &package.summary {
            Some(summary) => {
                writeln!(self.out, "  why: {}", inline(summary, MAX_FIELD))
            }
            None => Ok(()),
        }
    }

    fn finding(&mut self, finding: &Finding) -> io::Result<()> {
        let style = Style::Severity(finding.severity);
        let rule = inline(&finding.rule, MAX_FIELD);
        let label = format!("{}[{rule}]", finding.severity);
        let message = inline(&finding.message, MAX_FIELD);
        let label = self.paint.paint(style, label);
        let message = self.paint.paint(Style::Emphasis, message);
        writeln!(self.out, "{label}: {message}")?;

        let snippet = Snippet {
            text: &finding.snippet,
            line: finding.line,
            column: match finding.snippet_column {
                0 => finding.column,
                within => within,
            },
        };
        let gutter = snippet.gutter();
        let arrow = self.paint.paint(Style::Gutter, "-->");
        let place = location(finding);
        writeln!(
            self.out,
            "{:gutter$}{arrow} {place} ({})",
            "", finding.role
        )?;

        if !finding.snippet.is_empty() {
            snippet.write(self.out, self.paint, style)?;
        }
        if self.debug {
            self.explain(&finding.rule, gutter)?;
        }
        Ok(())
    }

    /// At `--debug`, a rule's summary and help, the first time it is seen.
    fn explain(&mut self, rule: &str, gutter: usize) -> io::Result<()> {
        let Some(info) = self.rules.get(rule).copied() else {
            return Ok(());
        };
        if !self.explained.insert(rule.to_string()) {
            return Ok(());
        }

        let equals = self.paint.paint(Style::Gutter, "=");
        let summary = inline(&info.summary, MAX_TEXT);
        writeln!(self.out, "{:gutter$} {equals} note: {summary}", "")?;
        for (i, line) in info.help.lines().enumerate() {
            let line = inline(line, MAX_TEXT);
            if i == 0 {
                writeln!(self.out, "{:gutter$} {equals} help: {line}", "")?;
            } else if line.trim().is_empty() {
                writeln!(self.out)?;
            } else {
                writeln!(
                    self.out,
                    "{:indent$}{line}",
                    "",
                    indent = gutter + 9
                )?;
            }
        }
        Ok(())
    }

    /// `N packages: N clean, N suspicious, N malicious, N failed`.
    fn summary(&mut self, packages: &[PackageReport]) -> io::Result<()> {
        if !packages.is_empty() && !self.after_blank {
            writeln!(self.out)?;
        }

        let count = |verdict| {
            let n = packages.iter().filter(|p| p.verdict == verdict).count();
            let word = verdict.map_or("failed".to_string(), |v| v.to_string());
            let text = format!("{n} {word}");
            match n {
                0 => text,
                _ => {
                    self.paint.paint(Style::Verdict(verdict), text).to_string()
                }
            }
        };
        let counts = [
            count(Some(Verdict::Clean)),
            count(Some(Verdict::Suspicious)),
            count(Some(Verdict::Malicious)),
            count(None),
        ];
        let total = plural(packages.len() as u64, "package", "packages");
        writeln!(self.out, "{total}: {}", counts.join(", "))
    }
}

/// `ecosystem name@version`, from what is known of them.
fn identity(package: &PackageReport) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(ecosystem) = package.ecosystem {
        parts.push(ecosystem.to_string());
    }
    if let Some(name) = &package.name {
        let mut name = inline(name, MAX_FIELD);
        if let Some(version) = &package.version {
            name.push('@');
            name.push_str(&inline(version, MAX_FIELD));
        }
        parts.push(name);
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `path:line:column`, leaving out what is unknown (zero).
fn location(finding: &Finding) -> String {
    let mut place = inline(&finding.path, MAX_FIELD);
    if finding.line > 0 {
        place.push_str(&format!(":{}", finding.line));
        if finding.column > 0 {
            place.push_str(&format!(":{}", finding.column));
        }
    }
    place
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, Role, Severity};

    fn finding() -> Finding {
        Finding {
            rule: "py-exec-decoded".into(),
            severity: Severity::High,
            path: "setup.py".into(),
            line: 12,
            column: 5,
            message: "exec() of a base64-decoded string".into(),
            snippet: "    exec(base64.b64decode(payload))\n".into(),
            snippet_column: 5,
            role: Role::Install,
        }
    }

    fn package(target: &str, verdict: Verdict, score: u32) -> PackageReport {
        PackageReport {
            target: target.into(),
            ecosystem: Some(Ecosystem::Pypi),
            name: Some("evil".into()),
            version: Some("1.0".into()),
            verdict: Some(verdict),
            score,
            summary: None,
            findings: Vec::new(),
            files: 14,
            suppressed: 0,
            error: None,
            source: None,
        }
    }

    fn rules() -> Vec<RuleInfo> {
        vec![RuleInfo {
            id: "py-exec-decoded".into(),
            severity: Severity::High,
            summary: "exec() of a string decoded at run time".into(),
            help: "Hides code from review.\n\nRead the payload.".into(),
        }]
    }

    fn render_with(report: &ScanReport, opts: &RenderOptions) -> String {
        let mut out = Vec::new();
        render(report, &rules(), opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn plain(report: &ScanReport) -> String {
        render_with(report, &RenderOptions::default())
    }

    #[test]
    fn a_small_report_reads_as_expected() {
        let mut evil = package("evil-1.0.tar.gz", Verdict::Malicious, 85);
        evil.findings.push(finding());
        evil.summary = Some(
            "setup.py, at install time: exec() of a decoded string".into(),
        );
        let clean = PackageReport {
            ecosystem: None,
            name: None,
            version: None,
            files: 1,
            suppressed: 0,
            ..package("./src", Verdict::Clean, 0)
        };
        let mut broken = PackageReport::failed(
            "broken.zip",
            "cannot read `broken.zip`: truncated archive".into(),
        );
        broken.source = Some("package-lock.json, via express".into());
        let report = ScanReport::new(vec![evil, clean, broken]);

        let expected = "\
evil-1.0.tar.gz (pypi evil@1.0): malicious, score 85, 14 files
  why: setup.py, at install time: exec() of a decoded string

high[py-exec-decoded]: exec() of a base64-decoded string
  --> setup.py:12:5 (install)
   |
12 |     exec(base64.b64decode(payload))
   |     ^^^^

./src: clean, score 0, 1 file
broken.zip: failed
  from: package-lock.json, via express
error: cannot read `broken.zip`: truncated archive

3 packages: 1 clean, 0 suspicious, 1 malicious, 1 failed
";
        assert_eq!(plain(&report), expected);
    }

    #[test]
    fn an_empty_report_is_just_the_summary() {
        let report = ScanReport::new(Vec::new());
        assert_eq!(
            plain(&report),
            "0 packages: 0 clean, 0 suspicious, 0 malicious, 0 failed\n"
        );
    }

    #[test]
    fn hostile_fields_cannot_reach_the_terminal_raw() {
        let mut evil = package("x\u{1b}[2J.tgz", Verdict::Suspicious, 3);
        evil.name = Some("ev\u{202e}il\nfake: clean".into());
        evil.error = Some("bad entry `a\u{7}b`".into());
        let mut hostile = finding();
        hostile.path = "a\u{2066}/b\r.py".into();
        hostile.message = "looks \u{9b}31m fine".into();
        hostile.snippet = "x = '\u{202e}' # \u{1b}]0;pwned\u{7}".into();
        evil.findings.push(hostile);
        let report = ScanReport::new(vec![evil]);

        let shown = plain(&report);
        let dangerous = |c: char| c != '\n' && crate::escape::needs_escape(c);
        assert!(!shown.chars().any(dangerous), "{shown:?}");
        assert!(shown.contains("ev\\u{202e}il\\nfake: clean"), "{shown}");
        assert!(shown.contains("x = '\\u{202e}' # \\u{1b}]0;pwned\\u{7}"));
        assert!(shown.contains("--> a\\u{2066}/b\\r.py:12:5"), "{shown}");
    }

    #[test]
    fn debug_explains_each_rule_once() {
        let mut evil = package("evil.tgz", Verdict::Malicious, 90);
        evil.findings = vec![finding(), finding()];
        let report = ScanReport::new(vec![evil]);
        let opts = RenderOptions { debug: true, ..RenderOptions::default() };

        let shown = render_with(&report, &opts);
        let note = "   = note: exec() of a string decoded at run time\n";
        let help = "   = help: Hides code from review.\n\n";
        let more = "           Read the payload.\n";
        assert_eq!(shown.matches(note).count(), 1, "{shown}");
        assert!(shown.contains(&format!("{note}{help}{more}")), "{shown}");
        assert!(!plain(&report).contains("= note"));
    }

    #[test]
    fn colour_marks_the_verdict_and_nothing_without_it() {
        let report =
            ScanReport::new(vec![package("a.tgz", Verdict::Clean, 0)]);
        let opts = RenderOptions { color: true, ..RenderOptions::default() };

        let coloured = render_with(&report, &opts);
        assert!(coloured.contains("\x1b[1;32mclean\x1b[0m, score 0"));
        assert!(!plain(&report).contains('\x1b'));
    }
}
