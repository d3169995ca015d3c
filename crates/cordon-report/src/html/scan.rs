//! The body of a scan page: totals, an index of the packages, each
//! package with its findings, and the rules that matched.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Page;
use crate::model::{Finding, PackageReport, RuleInfo, ScanReport, Verdict};

/// Writes the body of a scan page.
pub(super) fn body(page: &mut Page, report: &ScanReport, rules: &[RuleInfo]) {
    page.raw("<main>\n");
    totals(page, &report.packages);
    index(page, &report.packages);
    for (i, package) in report.packages.iter().enumerate() {
        package_section(page, i, package);
    }
    matched_rules(page, report, rules);
    page.raw("</main>\n");
}

/// The word and class of a package's verdict; `failed` when it could
/// not be read.
fn verdict_word(package: &PackageReport) -> &'static str {
    match package.verdict {
        Some(Verdict::Clean) => "clean",
        Some(Verdict::Suspicious) => "suspicious",
        Some(Verdict::Malicious) => "malicious",
        None => "failed",
    }
}

/// "3 packages: 1 malicious, 0 suspicious, 2 clean, 0 failed".
fn totals(page: &mut Page, packages: &[PackageReport]) {
    let count = |word: &str| {
        packages.iter().filter(|p| verdict_word(p) == word).count()
    };
    let noun = if packages.len() == 1 { "package" } else { "packages" };
    let mut line = format!("<p class=\"totals\">{} {noun}:", packages.len());
    for word in ["malicious", "suspicious", "clean", "failed"] {
        let _ = write!(
            line,
            " <span class=\"verdict v-{word}\">{} {word}</span>",
            count(word)
        );
    }
    line.push_str("</p>\n");
    page.raw(&line);
}

/// A table of every package: verdict, score and findings, each row
/// linking to the package's section.
fn index(page: &mut Page, packages: &[PackageReport]) {
    page.raw(
        "<nav><table class=\"index\">\n<thead><tr><th>verdict</th>\
         <th>package</th><th>score</th><th>findings</th></tr></thead>\n\
         <tbody>\n",
    );
    for (i, package) in packages.iter().enumerate() {
        let word = verdict_word(package);
        page.raw(&format!(
            "<tr><td><span class=\"verdict v-{word}\">{word}</span></td>\
             <td><a href=\"#pkg-{i}\">"
        ));
        page.text(&package.target);
        page.raw(&format!(
            "</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             </tr>\n",
            package.score,
            package.findings.len()
        ));
    }
    page.raw("</tbody></table></nav>\n");
}

/// One package: its verdict and facts, why, and its findings.
fn package_section(page: &mut Page, i: usize, package: &PackageReport) {
    let word = verdict_word(package);
    page.raw(&format!(
        "<section class=\"package\" id=\"pkg-{i}\" data-verdict=\"{word}\">\n\
         <h2><span class=\"verdict v-{word}\">{word}</span> "
    ));
    page.tagged("span", "target", &package.target);
    page.raw("</h2>\n");

    facts(page, package);
    if let Some(summary) = &package.summary {
        page.tagged("p", "summary", summary);
        page.raw("\n");
    }
    if let Some(error) = &package.error {
        page.raw("<p class=\"error\">error: ");
        page.text(error);
        page.raw("</p>\n");
    }

    if !package.findings.is_empty() {
        page.raw("<div class=\"findings\">\n");
        for finding in &package.findings {
            finding_block(page, finding);
        }
        page.raw("</div>\n");
    }
    page.raw("</section>\n");
}

/// The package's identity, score and counts.
fn facts(page: &mut Page, package: &PackageReport) {
    page.raw("<dl class=\"facts\">\n");
    if let Some(name) = &package.name {
        let mut identity = name.clone();
        if let Some(version) = &package.version {
            identity = format!("{identity} {version}");
        }
        if let Some(ecosystem) = package.ecosystem {
            identity = format!("{identity} ({ecosystem})");
        }
        page.fact("package", &identity);
    }
    page.fact("score", &package.score.to_string());
    page.fact("files", &package.files.to_string());
    page.fact("findings", &package.findings.len().to_string());
    if package.suppressed > 0 {
        page.fact("suppressed", &package.suppressed.to_string());
    }
    if let Some(source) = &package.source {
        page.fact("from", source);
    }
    page.raw("</dl>\n");
}

/// One finding: severity, rule code, location and role on one line,
/// then the message and the snippet.
fn finding_block(page: &mut Page, finding: &Finding) {
    let severity = finding.severity;
    page.raw(&format!(
        "<article class=\"finding sev-{severity}\">\n<p class=\"head\">\
         <span class=\"sev\">{severity}</span> "
    ));
    page.tagged("code", "rule", &finding.rule);
    page.raw(" ");
    let location =
        format!("{}:{}:{}", finding.path, finding.line, finding.column);
    page.tagged("span", "loc", &location);
    page.raw(&format!(" <span class=\"role\">{}</span></p>\n", finding.role));
    page.tagged("p", "msg", &finding.message);
    page.raw("\n");
    if !finding.snippet.is_empty() {
        page.block("snippet", &finding.snippet);
    }
    page.raw("</article>\n");
}

/// Each rule that matched somewhere in the report, with its summary
/// and help.
fn matched_rules(page: &mut Page, report: &ScanReport, rules: &[RuleInfo]) {
    let matched: BTreeSet<&str> = report
        .packages
        .iter()
        .flat_map(|p| p.findings.iter().map(|f| f.rule.as_str()))
        .collect();
    let explained: Vec<&RuleInfo> =
        rules.iter().filter(|r| matched.contains(r.id.as_str())).collect();
    if explained.is_empty() {
        return;
    }
    page.raw("<section class=\"rules\" id=\"rules\">\n<h2>Rules</h2>\n");
    for rule in explained {
        page.raw("<details class=\"rule\"><summary>");
        page.tagged("code", "rule", &rule.id);
        page.raw(&format!(" <span class=\"sev\">{}</span> ", rule.severity));
        page.text(&rule.summary);
        page.raw("</summary>\n");
        page.block("help", rule.help.trim_end());
        page.raw("</details>\n");
    }
    page.raw("</section>\n");
}
