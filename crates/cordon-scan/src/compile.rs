//! Compiling a checked rule into what the scanner runs: regexes, queries
//! per grammar, the literals that prefilter it and its message
//! template.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use crate::anomaly;
use crate::grammar::Grammar;
use crate::prefilter;
use crate::query::{CompiledQuery, QueryProblem};
use crate::rule::{MatchSpec, Mode, Rule};
use crate::template::Template;

/// The most memory one compiled regex may take. Rules are data, and a
/// user's rule file must not be able to make cordon build an enormous
/// automaton.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The most memory the lazy DFA of one regex may cache.
const REGEX_DFA_SIZE_LIMIT: usize = 1 << 20;

/// A rule ready to run.
pub(crate) struct CompiledRule {
    pub(crate) matcher: Matcher,
    /// The message template, when the rule has one.
    pub(crate) template: Option<Template>,
    /// Literals one of which must occur for the rule to match; `None`
    /// when the rule runs on every file it applies to.
    pub(crate) literals: Option<Vec<Vec<u8>>>,
}

/// The compiled matcher of a rule.
pub(crate) enum Matcher {
    /// Literal and regex rules.
    Regex { regexes: Regexes, mode: Mode },
    /// Query rules, compiled for each of their grammars.
    Query(Queries),
    /// Anomaly rules, by anomaly kind.
    Anomaly(String),
    /// Metadata rules, by signal.
    Metadata(String),
}

impl CompiledRule {
    /// The query compiled for `grammar`, for a query rule.
    pub(crate) fn query_for(
        &self,
        grammar: Grammar,
    ) -> Option<&CompiledQuery> {
        match &self.matcher {
            Matcher::Query(queries) => queries.get(grammar),
            _ => None,
        }
    }
}

/// The regexes of one rule, compiled on first use.
pub(crate) struct Regexes {
    sources: Vec<String>,
    compiled: OnceLock<Vec<Regex>>,
}

impl Regexes {
    /// Compiles `sources` now, so that a mistake is an error here, or
    /// keeps them for [`Regexes::get`] to compile when first needed.
    fn new(sources: Vec<String>, when: When) -> Result<Regexes, String> {
        let compiled = OnceLock::new();
        if when == When::Now {
            let regexes = sources
                .iter()
                .map(|s| build_regex(s))
                .collect::<Result<Vec<_>, _>>()?;
            let _ = compiled.set(regexes);
        }
        Ok(Regexes { sources, compiled })
    }

    /// The compiled regexes; those that do not compile are left out and
    /// said once, at debug level (the built-in pack's tests compile every
    /// one of them).
    pub(crate) fn get(&self) -> &[Regex] {
        self.compiled.get_or_init(|| {
            let build = |source: &String| {
                build_regex(source)
                    .map_err(|reason| tracing::debug!(reason, "regex"))
                    .ok()
            };
            self.sources.iter().filter_map(build).collect()
        })
    }
}

/// When the regexes and queries of a rule are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// Now, every regex and every grammar's query, so that every mistake
    /// is reported up front.
    Now,
    /// Each the first time a file needs it: a regex when a file passes
    /// its rule's prefilter, a query for a grammar when a file of that
    /// grammar does. Compiling the whole pack costs more than scanning a
    /// typical package, and most files pass the prefilter of few rules,
    /// so the built-in pack, checked by the test suite, is compiled this
    /// way.
    OnFirstUse,
}

/// The query of one rule, compiled per grammar on first use.
pub(crate) struct Queries {
    source: String,
    compiled: Vec<(Grammar, OnceLock<Option<CompiledQuery>>)>,
}

impl Queries {
    /// The query for `grammar`; `None` when the rule has none for it,
    /// or when it does not compile (said once, at debug level).
    fn get(&self, grammar: Grammar) -> Option<&CompiledQuery> {
        let (_, cell) = self.compiled.iter().find(|(g, _)| *g == grammar)?;
        let compiled = cell.get_or_init(|| {
            let result = CompiledQuery::new(grammar, &self.source);
            result
                .map_err(|problem| {
                    let reason = problem.reason;
                    tracing::debug!(grammar = grammar.name(), reason, "query");
                })
                .ok()
        });
        compiled.as_ref()
    }
}

/// Compiles `rule`, its queries `when` asked.
pub(crate) fn compile(
    rule: &Rule,
    when: When,
) -> Result<CompiledRule, QueryProblem> {
    let plain = |reason: String| QueryProblem { row: None, reason };
    let (matcher, literals) = match &rule.matcher {
        MatchSpec::Literal { patterns, mode, case_insensitive } => {
            literal(patterns, *mode, *case_insensitive, when).map_err(plain)?
        }
        MatchSpec::Regex { patterns, mode, requires } => {
            regex(patterns, *mode, requires.as_deref(), when).map_err(plain)?
        }
        MatchSpec::Query { query, requires } => {
            let literals = (!requires.is_empty()).then(|| to_bytes(requires));
            (Matcher::Query(queries(rule, query, when)?), literals)
        }
        MatchSpec::Anomaly { anomaly: kind } => {
            anomaly::check_kind(kind).map_err(plain)?;
            (Matcher::Anomaly(kind.clone()), None)
        }
        MatchSpec::Metadata { signal } => {
            crate::metadata::check_signal(signal).map_err(plain)?;
            (Matcher::Metadata(signal.clone()), None)
        }
    };
    let template = template(rule, &matcher).map_err(plain)?;
    Ok(CompiledRule { matcher, template, literals })
}

/// The literals of a rule's prefilter; `None` when it runs on every
/// file.
type Literals = Option<Vec<Vec<u8>>>;

fn literal(
    patterns: &[String],
    mode: Mode,
    case_insensitive: bool,
    when: When,
) -> Result<(Matcher, Literals), String> {
    let flags = if case_insensitive { "(?i-u)" } else { "(?-u)" };
    let escaped: Vec<String> =
        patterns.iter().map(|p| regex::escape(p)).collect();
    let sources = match mode {
        Mode::Any => vec![format!("{flags}(?:{})", escaped.join("|"))],
        Mode::All => escaped.iter().map(|e| format!("{flags}{e}")).collect(),
    };
    let regexes = Regexes::new(sources, when)?;
    Ok((Matcher::Regex { regexes, mode }, Some(to_bytes(patterns))))
}

fn regex(
    patterns: &[String],
    mode: Mode,
    requires: Option<&[String]>,
    when: When,
) -> Result<(Matcher, Literals), String> {
    let regexes = Regexes::new(patterns.to_vec(), when)?;
    let literals = match requires {
        Some(list) => Some(to_bytes(list)),
        None => prefilter::derive_literals(patterns, mode == Mode::All),
    };
    Ok((Matcher::Regex { regexes, mode }, literals))
}

fn build_regex(source: &str) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            format!("invalid regex `{source}`: {}", one_line(&e.to_string()))
        })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn queries(
    rule: &Rule,
    source: &str,
    when: When,
) -> Result<Queries, QueryProblem> {
    let Some(languages) = &rule.languages else {
        let reason = "a query rule must list its languages".to_string();
        return Err(QueryProblem { row: None, reason });
    };
    let mut compiled = Vec::new();
    for &language in languages {
        let grammars = Grammar::for_language(language);
        if grammars.is_empty() {
            let reason = format!("cordon has no grammar for `{language}`");
            return Err(QueryProblem { row: None, reason });
        }
        for &grammar in grammars {
            let cell = OnceLock::new();
            if when == When::Now {
                let _ = cell.set(Some(CompiledQuery::new(grammar, source)?));
            }
            compiled.push((grammar, cell));
        }
    }
    Ok(Queries { source: source.to_string(), compiled })
}

fn template(
    rule: &Rule,
    matcher: &Matcher,
) -> Result<Option<Template>, String> {
    let Some(text) = &rule.message else { return Ok(None) };
    let names: Vec<&str> = match matcher {
        Matcher::Regex { .. } => vec!["match"],
        Matcher::Query(queries) => match queries.compiled.first() {
            Some((_, cell)) => match cell.get() {
                Some(Some(query)) => query.capture_names().to_vec(),
                // Not compiled yet: the pack's tests check the names.
                _ => return Ok(Some(Template::unchecked(text))),
            },
            None => Vec::new(),
        },
        Matcher::Anomaly(_) | Matcher::Metadata(_) => vec!["detail"],
    };
    Template::new(text, &names).map(Some)
}

fn to_bytes(list: &[String]) -> Vec<Vec<u8>> {
    list.iter().map(|s| s.as_bytes().to_vec()).collect()
}
