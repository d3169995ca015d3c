//! The HTML report: one self-contained page for a scan or a run, to
//! keep as a build artefact or to send to someone who will read it in
//! a browser.
//!
//! The page carries its style sheet inline and has no script, no image
//! and no link to anything outside itself, so it opens the same from a
//! disk, an archive or a mail, and a browser fetches nothing to show
//! it. A `Content-Security-Policy` in the page forbids scripts and
//! every outside resource besides, as a second fence.
//!
//! Everything that came from a package or a sandboxed command (paths,
//! snippets, messages that quote them, argv, addresses) is escaped
//! before it is written: markup in a snippet shows as text, and the characters
//! the terminal report escapes show as a marked `\u{..}`.
//!
//! A scan page has a line of totals, an index of the packages with
//! their verdicts, then each package with its verdict, score, summary
//! and findings (rule code, severity, `path:line:column`, when the
//! file runs, the message and the snippet), and last the rules that
//! matched, explained. A run page has the command and how it ended,
//! each sandbox layer with how far it was enforced, and, when the
//! monitor ran, a timeline of the processes started and the network
//! attempts and DNS lookups made, the file accesses outside the
//! workspace, and what changed in the workspace.

mod escape;
mod run;
mod scan;

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::model::{RuleInfo, ScanReport};
use crate::run::RunReport;

use self::escape::Lines;

/// The page's style sheet, inlined into every report.
const STYLE: &str = include_str!("style.css");

/// Scripts and outside resources are refused: the page needs neither.
const POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Writes `report` as one HTML page. `rules` explains the rules that
/// matched; `tool_version` is cordon's version, shown in the header.
///
/// # Errors
///
/// Only those of writing to `out`.
pub fn render_scan(
    report: &ScanReport,
    rules: &[RuleInfo],
    tool_version: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut page = Page::new("cordon scan report", tool_version);
    scan::body(&mut page, report, rules);
    out.write_all(page.finish().as_bytes())
}

/// Writes the report of a `cordon run` as one HTML page.
///
/// # Errors
///
/// Only those of writing to `out`.
pub fn render_run(
    report: &RunReport,
    tool_version: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut page = Page::new("cordon run report", tool_version);
    run::body(&mut page, report);
    out.write_all(page.finish().as_bytes())
}

/// A page being written. Markup goes in through [`Page::raw`] and only
/// ever comes from this module; text goes in through the methods that
/// escape it.
pub(crate) struct Page {
    html: String,
}

impl Page {
    /// The head of the page and the opening of its body.
    fn new(title: &str, tool_version: &str) -> Page {
        let mut page = Page { html: String::with_capacity(64 * 1024) };
        page.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n");
        page.raw("<meta charset=\"utf-8\">\n");
        let _ = writeln!(
            page.html,
            "<meta http-equiv=\"Content-Security-Policy\" \
             content=\"{POLICY}\">"
        );
        page.raw("<meta name=\"viewport\" content=\"width=device-width\">\n");
        page.tagged("title", "", title);
        page.raw("\n<style>\n");
        page.raw(STYLE);
        page.raw("</style>\n</head>\n<body>\n<header>\n");
        page.tagged("h1", "", title);
        page.raw("<p class=\"tool\">cordon ");
        page.text(tool_version);
        page.raw("</p>\n</header>\n");
        page
    }

    /// Markup written by this module, as it is.
    pub(crate) fn raw(&mut self, markup: &str) {
        self.html.push_str(markup);
    }

    /// Untrusted text on one line, escaped.
    pub(crate) fn text(&mut self, text: &str) {
        escape::push(&mut self.html, text, Lines::One);
    }

    /// Untrusted text in a `<pre>` block, escaped, its lines kept.
    pub(crate) fn block(&mut self, class: &str, text: &str) {
        let _ = write!(self.html, "<pre class=\"{class}\">");
        escape::push(&mut self.html, text, Lines::Keep);
        self.raw("</pre>\n");
    }

    /// `<tag class="class">text</tag>`, the text escaped; `class` is
    /// one of this module's names, or empty.
    pub(crate) fn tagged(&mut self, tag: &str, class: &str, text: &str) {
        if class.is_empty() {
            let _ = write!(self.html, "<{tag}>");
        } else {
            let _ = write!(self.html, "<{tag} class=\"{class}\">");
        }
        self.text(text);
        let _ = write!(self.html, "</{tag}>");
    }

    /// A term and its description in a `<dl>`, the description escaped.
    pub(crate) fn fact(&mut self, term: &str, text: &str) {
        let _ = write!(self.html, "<dt>{term}</dt><dd>");
        self.text(text);
        self.raw("</dd>\n");
    }

    /// Closes the body and the page.
    fn finish(mut self) -> String {
        self.raw("</body>\n</html>\n");
        self.html
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Actor, Events, NetworkAttempt, NetworkEvent};
    use crate::events::{Outcome, Process};
    use crate::model::{Finding, PackageReport, Role, Severity, Verdict};
    use crate::run::{Enforcement, Exit, Layer, LayerKind, Limits};
    use crate::run::{NetworkMode, RUN_FORMAT_VERSION};

    const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

    fn scan_page(package: PackageReport) -> String {
        let mut out = Vec::new();
        let report = ScanReport::new(vec![package]);
        render_scan(&report, &[], "0.0.0", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_finding_shows_its_code_and_escaped_snippet() {
        let mut package = PackageReport::failed(HOSTILE, String::new());
        package.error = None;
        package.verdict = Some(Verdict::Malicious);
        package.findings.push(Finding {
            rule: "py-exec-decoded".into(),
            severity: Severity::Critical,
            path: "setup.py".into(),
            line: 6,
            column: 1,
            message: HOSTILE.into(),
            snippet: format!("exec(x)\n# {HOSTILE}"),
            snippet_column: 1,
            role: Role::Install,
        });
        let page = scan_page(package);
        assert!(page.contains("<code class=\"rule\">py-exec-decoded</code>"));
        assert!(page.contains("setup.py:6:1"));
        assert!(page.contains("exec(x)\n# &lt;/script&gt;&lt;img"));
        assert!(!page.contains("<img"), "{page}");
        assert_eq!(page.matches("</script>").count(), 0, "{page}");
    }

    #[test]
    fn an_unreadable_package_shows_its_error() {
        let page = scan_page(PackageReport::failed("x.zip", "<b>".into()));
        assert!(page.contains("data-verdict=\"failed\""));
        assert!(page.contains("error: &lt;b&gt;"));
    }

    #[test]
    fn a_run_page_orders_its_timeline_by_time() {
        let actor = Actor { time_ms: 7, pid: 3, process: HOSTILE.into() };
        let network = NetworkAttempt {
            event: NetworkEvent {
                actor,
                syscall: "connect".into(),
                family: "inet".into(),
                socket: Some("tcp".into()),
                address: "10.0.0.1".into(),
                port: Some(443),
                outcome: Outcome::Denied,
            },
            count: 2,
        };
        let process = Process {
            pid: 3,
            ppid: 1,
            path: "/bin/sh".into(),
            argv: vec!["sh".into(), HOSTILE.into()],
            time_ms: 2,
            exit_code: Some(0),
            signal: None,
        };
        let events = Events {
            network: vec![network],
            processes: vec![process],
            ..Events::default()
        };
        let report = RunReport {
            version: RUN_FORMAT_VERSION,
            command: vec!["sh".into()],
            workspace: "/w".into(),
            rootfs: None,
            network: NetworkMode::None,
            limits: Limits::default(),
            layers: vec![Layer {
                layer: LayerKind::Landlock,
                enforcement: Enforcement::Partial {
                    missing: vec!["udp".into()],
                },
                details: vec![],
            }],
            env_removed: vec![],
            warnings: vec![],
            exit: Exit { code: Some(0), status: 0, ..Exit::default() },
            timed_out: false,
            duration_ms: 9,
            events: Some(events),
        };
        let mut out = Vec::new();
        render_run(&report, "0.0.0", &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();

        assert!(page.contains("<tr class=\"layer l-partial\"><td>landlock"));
        let exec = page.find("+2 ms").expect("the exec is on the timeline");
        let net = page.find("+7 ms").expect("the connect is on the timeline");
        assert!(exec < net, "the timeline is out of order");
        assert!(page.contains("<code>10.0.0.1:443</code>"));
        assert!(!page.contains("<img"), "{page}");
    }
}
