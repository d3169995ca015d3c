//! The engine: a set of compiled rules and the literal prefilter over
//! all of them, built once per run and shared by every scan.

use std::collections::HashMap;

use cordon_report::{Finding, RuleInfo, Verdict};
use rayon::prelude::*;

use crate::compile::{self, CompiledRule, When};
use crate::error::Error;
use crate::pack;
use crate::parse::{self, line_of};
use crate::prefilter::Prefilter;
use crate::query::QueryProblem;
use crate::rule::{MatchSpec, Rule, RuleSource};
use crate::scan::{self, ScanFile};
use crate::score;

/// Compiled rules, ready to scan files.
///
/// An engine is immutable and `Sync`: build it once, then scan any
/// number of packages with it, from any number of threads.
pub struct Engine {
    rules: Vec<Rule>,
    compiled: Vec<CompiledRule>,
    prefilter: Prefilter,
    by_id: HashMap<String, usize>,
    /// For each rule, the index of the query rule it is the fallback of.
    fallbacks: Vec<Option<usize>>,
}

impl Engine {
    /// The engine of the rule pack compiled into cordon.
    ///
    /// Its tree-sitter queries are compiled for a grammar the first time
    /// a file of that grammar needs them: compiling them all would cost
    /// more than scanning a typical package. The test suite compiles
    /// them all, so none can fail.
    pub fn builtin() -> Result<Engine, Error> {
        Engine::build(&pack::builtin_sources(), |_| When::OnFirstUse)
    }

    /// The built-in rule pack plus the user's rule files, in the same
    /// format. A user rule cannot reuse the id of a built-in one. Every
    /// user rule is compiled at once, so that each mistake in it is an
    /// error here.
    pub fn from_sources(sources: &[RuleSource]) -> Result<Engine, Error> {
        let builtin = pack::builtin_sources();
        let mut all = builtin.clone();
        all.extend_from_slice(sources);
        Engine::build(&all, |source| match builtin.contains(source) {
            true => When::OnFirstUse,
            false => When::Now,
        })
    }

    /// An engine of exactly the rules in `sources`, without the built-in
    /// pack, every one compiled at once.
    pub fn new(sources: &[RuleSource]) -> Result<Engine, Error> {
        Engine::build(sources, |_| When::Now)
    }

    fn build(
        sources: &[RuleSource],
        when: impl Fn(&RuleSource) -> When,
    ) -> Result<Engine, Error> {
        let rules = read_rules(sources)?;
        let by_id = index_ids(&rules)?;
        let fallbacks = resolve_fallbacks(&rules, &by_id)?;
        let compiled = rules
            .iter()
            .map(|rule| {
                let source =
                    sources.iter().find(|s| s.name == rule.origin.file);
                let when = source.map_or(When::Now, &when);
                compile_rule(rule, sources, when)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let literals: Vec<_> =
            compiled.iter().map(|c| c.literals.clone()).collect();
        let prefilter = Prefilter::new(&literals)?;
        tracing::debug!(
            rules = rules.len(),
            literals = prefilter.literal_count(),
            "rule engine built"
        );
        Ok(Engine { rules, compiled, prefilter, by_id, fallbacks })
    }

    /// Every rule, in the order of their files.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// What renderers need to know about every rule.
    pub fn rule_infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(Rule::info).collect()
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    /// Scans `files` in parallel and returns every finding, ordered by
    /// path, line, column and rule.
    pub fn scan_files(&self, files: &[ScanFile<'_>]) -> Vec<Finding> {
        let mut findings: Vec<Finding> = files
            .par_iter()
            .flat_map_iter(|file| scan::scan_file(self, file))
            .collect();
        sort_findings(&mut findings);
        findings
    }

    /// The score and verdict of findings made by this engine, weighing
    /// each with its rule's weight for the file's role (the default
    /// weights for findings of rules it does not know).
    pub fn score(&self, findings: &[Finding]) -> (u32, Verdict) {
        score::score_with(findings, |f| self.weight(f))
    }

    /// One sentence that says why findings made by this engine add up
    /// to their verdict: the file that weighs most and its strongest
    /// findings; `None` when nothing weighs anything.
    pub fn explain(&self, findings: &[Finding]) -> Option<String> {
        crate::explain::explain(findings, |f| self.weight(f))
    }

    /// The weight of `finding`, in percent: its rule's for its role, or
    /// the default for a rule this engine does not know.
    fn weight(&self, finding: &Finding) -> u32 {
        match self.rule(&finding.rule) {
            Some(rule) => rule.weights.percent(finding.role),
            None => score::role_weight(finding.role),
        }
    }

    pub(crate) fn compiled(&self, index: usize) -> &CompiledRule {
        &self.compiled[index]
    }

    pub(crate) fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// The index of the query rule that rule `index` is the fallback of.
    pub(crate) fn fallback_of(&self, index: usize) -> Option<usize> {
        self.fallbacks[index]
    }
}

/// Orders findings by path, line, column, then rule.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule)
            .cmp(&(&b.path, b.line, b.column, &b.rule))
    });
}

fn read_rules(sources: &[RuleSource]) -> Result<Vec<Rule>, Error> {
    let mut rules = Vec::new();
    for source in sources {
        rules.extend(parse::parse_source(source)?);
    }
    Ok(rules)
}

fn index_ids(rules: &[Rule]) -> Result<HashMap<String, usize>, Error> {
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (index, rule) in rules.iter().enumerate() {
        if let Some(&first) = by_id.get(&rule.id) {
            let first = &rules[first].origin;
            return Err(Error::DuplicateRule {
                file: rule.origin.file.clone(),
                id: rule.id.clone(),
                line: rule.origin.line,
                first_file: first.file.clone(),
                first_line: first.line,
            });
        }
        by_id.insert(rule.id.clone(), index);
    }
    Ok(by_id)
}

/// For each rule, the index of the query rule its `fallback_for` names;
/// an error when that rule does not exist or is not a query rule.
fn resolve_fallbacks(
    rules: &[Rule],
    by_id: &HashMap<String, usize>,
) -> Result<Vec<Option<usize>>, Error> {
    rules
        .iter()
        .map(|rule| {
            let Some(target) = &rule.fallback_for else { return Ok(None) };
            let invalid = |reason: String| Error::InvalidRule {
                file: rule.origin.file.clone(),
                id: rule.id.clone(),
                line: rule.origin.line,
                reason,
            };
            let Some(&index) = by_id.get(target) else {
                return Err(invalid(format!(
                    "`fallback_for` names an unknown rule `{target}`"
                )));
            };
            match rules[index].matcher {
                MatchSpec::Query { .. } => Ok(Some(index)),
                _ => Err(invalid(format!(
                    "`fallback_for` must name a query rule, and `{target}` \
                     is not one"
                ))),
            }
        })
        .collect()
}

fn compile_rule(
    rule: &Rule,
    sources: &[RuleSource],
    when: When,
) -> Result<CompiledRule, Error> {
    compile::compile(rule, when).map_err(|problem| Error::InvalidRule {
        file: rule.origin.file.clone(),
        id: rule.id.clone(),
        line: problem_line(rule, &problem, sources),
        reason: problem.reason,
    })
}

/// The line of the rule file a problem is on: inside the query when
/// tree-sitter said where, else the rule's header.
fn problem_line(
    rule: &Rule,
    problem: &QueryProblem,
    sources: &[RuleSource],
) -> u32 {
    let header = rule.origin.line;
    let (Some(row), MatchSpec::Query { query, .. }) =
        (problem.row, &rule.matcher)
    else {
        return header;
    };
    let Some(source) = sources.iter().find(|s| s.name == rule.origin.file)
    else {
        return header;
    };
    query_start_line(&source.text, header, query)
        .map_or(header, |start| start + u32::try_from(row).unwrap_or(0))
}

/// The line on which the first line of `query` appears in `text`, at or
/// after line `from`.
fn query_start_line(text: &str, from: u32, query: &str) -> Option<u32> {
    let first = query.lines().find(|l| !l.trim().is_empty())?.trim();
    let skipped = query.lines().take_while(|l| l.trim().is_empty()).count();
    let from_offset: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(from).ok()?.saturating_sub(1))
        .map(str::len)
        .sum();
    let found = text.get(from_offset..)?.find(first)? + from_offset;
    let line = line_of(text, found);
    Some(line - u32::try_from(skipped).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
[[rule]]
id = "t-literal"
severity = "high"
summary = "literal"
help = "h"
languages = "any"
[rule.match]
kind = "literal"
patterns = ["evil.example"]

[[rule]]
id = "t-query"
severity = "critical"
summary = "exec"
help = "h"
languages = ["python"]
message = "calls {fn}"
[rule.match]
kind = "query"
requires = ["exec"]
query = '''
(call function: (identifier) @fn (#eq? @fn "exec")) @match
'''
"#;

    fn engine() -> Engine {
        Engine::new(&[RuleSource::new("t.toml", RULES)]).unwrap()
    }

    #[test]
    fn rules_are_found_by_id() {
        let engine = engine();
        assert_eq!(engine.rules().len(), 2);
        assert_eq!(engine.rule("t-query").unwrap().origin.line, 12);
        assert!(engine.rule("nope").is_none());
        assert_eq!(engine.rule_infos()[0].id, "t-literal");
    }

    #[test]
    fn duplicate_ids_are_refused_with_both_places() {
        let sources = [
            RuleSource::new("a.toml", RULES),
            RuleSource::new("b.toml", RULES),
        ];
        let err = Engine::new(&sources).err().unwrap();
        let message = err.to_string();
        assert!(
            message.contains("b.toml") && message.contains("a.toml"),
            "{message}"
        );
        assert!(message.contains("t-literal"), "{message}");
    }

    #[test]
    fn query_errors_point_at_the_line_in_the_rule_file() {
        let broken = RULES.replace(
            "(#eq? @fn \"exec\")) @match",
            "(#eq? @fn \"exec\")\n(nope)) @match",
        );
        let err =
            Engine::new(&[RuleSource::new("t.toml", &broken)]).err().unwrap();
        match err {
            Error::InvalidRule { id, line, .. } => {
                assert_eq!(id, "t-query");
                assert_eq!(line, 24, "the line of `(nope)`");
            }
            other => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn findings_are_sorted_and_carry_messages() {
        let engine = engine();
        let files = [
            ScanFile {
                path: "b.py",
                language: cordon_report::Language::Python,
                role: cordon_report::Role::Install,
                data: b"exec(x)\n",
            },
            ScanFile {
                path: "a.py",
                language: cordon_report::Language::Python,
                role: cordon_report::Role::Other,
                data: b"# exec(x)\nu = 'evil.example'\n",
            },
        ];
        let findings = engine.scan_files(&files);
        let summary: Vec<_> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.path.as_str(), f.line))
            .collect();
        assert_eq!(
            summary,
            vec![("t-literal", "a.py", 2), ("t-query", "b.py", 1)]
        );
        assert_eq!(findings[1].message, "calls exec");
        assert_eq!(findings[0].message, "literal");
    }

    #[test]
    fn the_engine_score_uses_rule_weights() {
        let text = RULES.replace(
            "languages = \"any\"",
            "languages = \"any\"\nweights = { test = 1.0 }",
        );
        let engine = Engine::new(&[RuleSource::new("t.toml", &text)]).unwrap();
        let file = ScanFile {
            path: "tests/t.py",
            language: cordon_report::Language::Python,
            role: cordon_report::Role::Test,
            data: b"u = 'evil.example'",
        };
        let findings = engine.scan_files(&[file]);
        assert_eq!(engine.score(&findings), (8, Verdict::Suspicious));
        assert_eq!(score::score(&findings), (1, Verdict::Clean));
    }

    #[test]
    fn import_time_findings_inside_functions_run_only_when_called() {
        let engine = engine();
        let file = ScanFile {
            path: "p/__init__.py",
            language: cordon_report::Language::Python,
            role: cordon_report::Role::Import,
            data: b"exec(a)\nu = 'evil.example'\n\
                def later():\n    exec(b)\n    v = 'evil.example'\n",
        };

        let findings = engine.scan_files(&[file]);

        let roles: Vec<_> =
            findings.iter().map(|f| (f.line, f.role)).collect();
        use cordon_report::Role::{Import, Other};
        assert_eq!(
            roles,
            vec![(1, Import), (2, Import), (4, Other), (5, Other)]
        );
    }

    const FALLBACK: &str = r#"
[[rule]]
id = "t-exec-text"
severity = "critical"
summary = "exec in the text"
help = "h"
languages = ["python"]
fallback_for = "t-query"
[rule.match]
kind = "regex"
patterns = ['exec\(\w+']
"#;

    fn fallback_rules(file: &str) -> Vec<(String, u32)> {
        let text = format!("{RULES}{FALLBACK}");
        let engine = Engine::new(&[RuleSource::new("t.toml", &text)]).unwrap();
        let file = ScanFile {
            path: "setup.py",
            language: cordon_report::Language::Python,
            role: cordon_report::Role::Install,
            data: file.as_bytes(),
        };
        let findings = engine.scan_files(&[file]);
        findings.into_iter().map(|f| (f.rule, f.line)).collect()
    }

    #[test]
    fn a_fallback_is_quiet_where_its_query_read_the_file() {
        let found = fallback_rules(
            "exec(a)
x = 'exec(b)'
",
        );
        assert_eq!(found, vec![("t-query".to_string(), 1)]);
    }

    #[test]
    fn a_fallback_speaks_where_its_query_could_not_read() {
        // The tree has an error: the query still sees line 1, where the
        // text rule stays quiet; only the text rule sees line 3.
        let found = fallback_rules("exec(a)\nx = 1\nexec(b\n");
        let rules: Vec<_> =
            found.iter().map(|(r, l)| (r.as_str(), *l)).collect();
        assert_eq!(rules, vec![("t-query", 1), ("t-exec-text", 3)]);
    }

    #[test]
    fn a_fallback_must_name_a_known_query_rule() {
        let check = |target: &str| {
            let text = format!("{RULES}{FALLBACK}")
                .replace("fallback_for = \"t-query\"", target);
            let sources = [RuleSource::new("t.toml", &text)];
            Engine::new(&sources).err().map(|e| e.to_string())
        };
        let unknown = check("fallback_for = \"t-nope\"").unwrap();
        assert!(unknown.contains("unknown rule `t-nope`"), "{unknown}");
        let literal = check("fallback_for = \"t-literal\"").unwrap();
        assert!(literal.contains("must name a query rule"), "{literal}");
        assert!(literal.contains("t-exec-text"), "{literal}");
    }

    #[test]
    fn text_matches_in_comments_and_docstrings_are_prose() {
        let engine = Engine::new(&[RuleSource::new("t.toml", RULES)]).unwrap();
        let python = b"\"\"\"Never fetch evil.example.\"\"\"\n\
            # nor evil.example\n\
            def f():\n    '''evil.example'''\n    \
            return get('evil.example')\n";
        let files = [
            ScanFile {
                path: "a.py",
                language: cordon_report::Language::Python,
                role: cordon_report::Role::Other,
                data: python,
            },
            ScanFile {
                path: "b.js",
                language: cordon_report::Language::JavaScript,
                role: cordon_report::Role::Other,
                data: b"// evil.example\n/* evil.example */ get('evil.example');\n",
            },
        ];

        let findings = engine.scan_files(&files);

        let lines: Vec<_> =
            findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
        assert_eq!(lines, vec![("a.py", 5), ("b.js", 2)]);
    }
}
