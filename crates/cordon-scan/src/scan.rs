//! Scanning one file: the prefilter pass, then the regexes and the
//! queries of the rules it let through, into findings.
//!
//! A file is read once by the literal automaton for all rules. Regex
//! rules then run over the bytes; query rules share one parse of the file
//! with the grammar of its language, made only when at least one query
//! rule passed the prefilter. Files too big or too minified to parse are
//! still read by the regex and literal rules.
//!
//! A literal or regex match that lies wholly in a comment or a docstring
//! of a file cordon can parse is prose, not code, and is dropped: a
//! README-like docstring that shows `curl ... | sh` is not an attack.
//!
//! A text rule may be the fallback of a query rule (`fallback_for`), for
//! files the query cannot read. Its findings are dropped when the query
//! rule read the whole file (a syntax tree without errors, queried before
//! the deadline) or matched the same bytes, so that one behaviour counts
//! once.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use cordon_report::{Finding, Language, Role};
use regex::bytes::Regex;

use crate::compile::Matcher;
use crate::engine::Engine;
use crate::grammar::Grammar;
use crate::location::TextIndex;
use crate::query::LazyAliases;
use crate::rule::Mode;

/// The largest file cordon parses into a syntax tree.
pub const MAX_PARSE_BYTES: usize = 2 << 20;

/// Files larger than this whose lines average more than
/// [`MINIFIED_LINE_BYTES`] are taken for minified bundles and not
/// parsed: the trees are huge and queries over them slow, while the
/// regex rules still read them.
pub const MINIFIED_MIN_BYTES: usize = 256 << 10;

/// The average line length from which a large file counts as minified.
pub const MINIFIED_LINE_BYTES: usize = 1000;

/// The time one file may spend being parsed and queried; what the
/// queries have not reached by then is not reported.
pub const FILE_QUERY_BUDGET: Duration = Duration::from_secs(3);

/// The most findings one rule reports in one file. More matches of the
/// same rule in the same file add nothing a reader needs.
pub const MAX_FINDINGS_PER_RULE: usize = 5;

/// One file to scan, borrowed from wherever the caller keeps it.
#[derive(Clone, Copy, Debug)]
pub struct ScanFile<'a> {
    /// The file's `/`-separated path inside the package.
    pub path: &'a str,
    /// The file's language.
    pub language: Language,
    /// When the file's code runs.
    pub role: Role,
    /// The file's bytes, which need not be UTF-8.
    pub data: &'a [u8],
}

/// Scans one file with every rule of `engine` that applies to it.
pub(crate) fn scan_file(engine: &Engine, file: &ScanFile<'_>) -> Vec<Finding> {
    let candidates: Vec<usize> = (0..engine.rules().len())
        .filter(|&i| {
            engine.rules()[i].applies_to(file.language, file.role, file.path)
        })
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }

    let passed = engine.prefilter().run(file.data);
    let mut collector = Collector::new(engine, file);
    let mut query_rules = Vec::new();
    for index in candidates.into_iter().filter(|&i| passed.contains(i)) {
        match &engine.compiled(index).matcher {
            Matcher::Regex { regexes, mode } => {
                run_regexes(&mut collector, index, regexes.get(), *mode);
            }
            Matcher::Query(_) => query_rules.push(index),
            Matcher::Anomaly(_) | Matcher::Metadata(_) => {}
        }
    }

    let mut tree = None;
    let mut read_whole = Vec::new();
    if !query_rules.is_empty() {
        tree = parse_file(file);
        if let Some((grammar, tree)) = &tree {
            let ran = run_queries(
                engine,
                file,
                *grammar,
                tree,
                &query_rules,
                &mut collector,
            );
            if !tree.root_node().has_error() {
                read_whole = ran;
            }
        }
    }
    collector.drop_fallbacks(&read_whole);
    if !collector.needs_tree() {
        return collector.findings;
    }
    if tree.is_none() {
        tree = parse_file(file);
    }
    if let Some((_, tree)) = &tree {
        collector.drop_prose(tree);
        collector.place_in_functions(tree);
    }
    collector.findings
}

fn run_regexes(
    collector: &mut Collector<'_, '_>,
    rule: usize,
    regexes: &[Regex],
    mode: Mode,
) {
    let data = collector.file.data;
    collector.from_text = true;
    match mode {
        Mode::Any => {
            for regex in regexes {
                for m in regex.find_iter(data) {
                    let text = m.as_bytes();
                    let flow =
                        collector
                            .add(rule, m.start(), m.end(), &|_| Some(text));
                    if flow.is_break() {
                        return;
                    }
                }
            }
        }
        Mode::All => {
            let firsts: Option<Vec<_>> =
                regexes.iter().map(|r| r.find(data)).collect();
            if let Some(first) = firsts.as_ref().and_then(|f| f.first()) {
                let text = first.as_bytes();
                let _ =
                    collector.add(rule, first.start(), first.end(), &|_| {
                        Some(text)
                    });
            }
        }
    }
}

/// The file's grammar and syntax tree, when it has a grammar and is
/// worth parsing.
fn parse_file(file: &ScanFile<'_>) -> Option<(Grammar, tree_sitter::Tree)> {
    let grammar = Grammar::for_file(file.language, file.path)?;
    if !worth_parsing(file) {
        return None;
    }
    let deadline = Instant::now() + FILE_QUERY_BUDGET;
    parse(grammar, file, deadline).map(|tree| (grammar, tree))
}

/// Runs the query rules `rules` over `tree`; returns those that read
/// the whole tree before the deadline.
fn run_queries(
    engine: &Engine,
    file: &ScanFile<'_>,
    grammar: Grammar,
    tree: &tree_sitter::Tree,
    rules: &[usize],
    collector: &mut Collector<'_, '_>,
) -> Vec<usize> {
    collector.from_text = false;
    let deadline = Instant::now() + FILE_QUERY_BUDGET;
    let data = file.data;
    let mut ran = Vec::new();
    let aliases = LazyAliases::new();
    for &rule in rules {
        let Some(query) = engine.compiled(rule).query_for(grammar) else {
            continue;
        };
        query.run(tree, data, &aliases, deadline, |node, capture| {
            let text = |name: &str| {
                let n = capture(name)?;
                data.get(n.start_byte()..n.end_byte())
            };
            collector.add(rule, node.start_byte(), node.end_byte(), &text)
        });
        if Instant::now() <= deadline {
            ran.push(rule);
        }
    }
    ran
}

/// Whether a file is small and plain enough to parse; says why not at
/// debug level.
fn worth_parsing(file: &ScanFile<'_>) -> bool {
    let size = file.data.len();
    if size > MAX_PARSE_BYTES {
        tracing::debug!(
            path = file.path,
            size,
            "not parsing: over the size limit"
        );
        return false;
    }
    let lines = file.data.iter().filter(|&&b| b == b'\n').count() + 1;
    if size > MINIFIED_MIN_BYTES && size / lines > MINIFIED_LINE_BYTES {
        tracing::debug!(
            path = file.path,
            size,
            lines,
            "not parsing: minified"
        );
        return false;
    }
    true
}

fn parse(
    grammar: Grammar,
    file: &ScanFile<'_>,
    deadline: Instant,
) -> Option<tree_sitter::Tree> {
    let mut parser = tree_sitter::Parser::new();
    if parser.set_language(&grammar.language()).is_err() {
        tracing::debug!(grammar = grammar.name(), "grammar does not load");
        return None;
    }
    let data = file.data;
    let mut read = |offset: usize, _| data.get(offset..).unwrap_or_default();
    let mut on_progress = |_: &tree_sitter::ParseState| {
        if Instant::now() > deadline {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options =
        tree_sitter::ParseOptions::new().progress_callback(&mut on_progress);
    let tree = parser.parse_with_options(&mut read, None, Some(options));
    if tree.is_none() {
        tracing::debug!(
            path = file.path,
            "not queried: parsing took too long"
        );
    }
    tree
}

/// Whether the smallest node around `span`, or one of its ancestors, is
/// of the kind `is`.
fn inside(
    tree: &tree_sitter::Tree,
    span: &Span,
    is: fn(&tree_sitter::Node<'_>) -> bool,
) -> bool {
    let root = tree.root_node();
    let mut node = root.descendant_for_byte_range(span.start, span.end);
    while let Some(current) = node {
        if is(&current) {
            return true;
        }
        node = current.parent();
    }
    false
}

/// Functions and methods, in Python and JavaScript.
fn is_function(node: &tree_sitter::Node<'_>) -> bool {
    matches!(
        node.kind(),
        "function_definition"
            | "lambda"
            | "function_declaration"
            | "function_expression"
            | "function"
            | "arrow_function"
            | "method_definition"
            | "generator_function"
            | "generator_function_declaration"
    )
}

/// Comments in every grammar, and in Python a string that is a statement
/// of its own: a docstring, or text left where code could be.
fn is_prose(node: &tree_sitter::Node<'_>) -> bool {
    let kind = node.kind();
    if kind.ends_with("comment") {
        return true;
    }
    let standalone = node.parent().is_some_and(|parent| {
        parent.kind() == "expression_statement"
            && parent.named_child_count() == 1
    });
    kind == "string" && standalone
}

/// Turns matches of one file into findings, once per rule and place and
/// at most [`MAX_FINDINGS_PER_RULE`] per rule.
struct Collector<'e, 'f> {
    engine: &'e Engine,
    file: &'f ScanFile<'f>,
    index: TextIndex<'f>,
    seen: HashSet<(usize, usize)>,
    counts: Vec<usize>,
    findings: Vec<Finding>,
    /// Whether matches being added come from the text (literal and regex
    /// rules) rather than the syntax tree.
    from_text: bool,
    /// For each finding, the byte range it matched and whether it came
    /// from the text.
    spans: Vec<Span>,
}

/// Where a finding matched, and how.
#[derive(Clone, Copy)]
struct Span {
    rule: usize,
    start: usize,
    end: usize,
    from_text: bool,
}

impl<'e, 'f> Collector<'e, 'f> {
    fn new(engine: &'e Engine, file: &'f ScanFile<'f>) -> Self {
        Collector {
            engine,
            file,
            index: TextIndex::new(file.data),
            seen: HashSet::new(),
            counts: vec![0; engine.rules().len()],
            findings: Vec::new(),
            from_text: false,
            spans: Vec::new(),
        }
    }

    /// Whether the findings need the syntax tree: to drop text matches
    /// in prose, or to tell the top level of an import-time file from
    /// its functions.
    fn needs_tree(&self) -> bool {
        let import = self.file.role == Role::Import && !self.spans.is_empty();
        import || self.spans.iter().any(|span| span.from_text)
    }

    /// Gives the findings inside a function of an import-time file the
    /// role [`Role::Other`]: a function's body runs only when called,
    /// not when the module is imported.
    fn place_in_functions(&mut self, tree: &tree_sitter::Tree) {
        if self.file.role != Role::Import {
            return;
        }
        for (finding, span) in self.findings.iter_mut().zip(&self.spans) {
            if inside(tree, span, is_function) {
                finding.role = Role::Other;
            }
        }
    }

    /// Drops the findings from the text whose match lies wholly inside a
    /// comment or a docstring of `tree`.
    fn drop_prose(&mut self, tree: &tree_sitter::Tree) {
        let prose: Vec<bool> = self
            .spans
            .iter()
            .map(|span| span.from_text && inside(tree, span, is_prose))
            .collect();
        let dropped = prose.iter().filter(|&&p| p).count();
        if dropped == 0 {
            return;
        }
        tracing::debug!(
            path = self.file.path,
            dropped,
            "matches in comments and docstrings"
        );
        self.remove(&prose);
    }

    /// Drops the findings of fallback rules whose query rule read the
    /// file: it is one of `read_whole` (it ran over a syntax tree
    /// without errors), or it matched the same place.
    fn drop_fallbacks(&mut self, read_whole: &[usize]) {
        let engine = self.engine;
        let spans = &self.spans;
        let redundant: Vec<bool> = spans
            .iter()
            .map(|span| {
                let Some(primary) = engine.fallback_of(span.rule) else {
                    return false;
                };
                read_whole.contains(&primary)
                    || spans.iter().any(|other| {
                        other.rule == primary
                            && other.start < span.end
                            && span.start < other.end
                    })
            })
            .collect();
        self.remove(&redundant);
    }

    /// Removes the findings marked in `marks`, and their spans.
    fn remove(&mut self, marks: &[bool]) {
        if !marks.contains(&true) {
            return;
        }
        let mut keep = marks.iter().map(|m| !m);
        self.findings.retain(|_| keep.next().unwrap_or(true));
        let mut keep = marks.iter().map(|m| !m);
        self.spans.retain(|_| keep.next().unwrap_or(true));
    }

    /// Records a match of `rule` over `start..end`; breaks once the rule
    /// has reported all it may in this file.
    fn add<'t>(
        &mut self,
        rule: usize,
        start: usize,
        end: usize,
        captured: &dyn Fn(&str) -> Option<&'t [u8]>,
    ) -> ControlFlow<()> {
        if self.counts[rule] >= MAX_FINDINGS_PER_RULE {
            return ControlFlow::Break(());
        }
        if !self.seen.insert((rule, start)) {
            return ControlFlow::Continue(());
        }
        self.counts[rule] += 1;

        let spec = &self.engine.rules()[rule];
        let message = match &self.engine.compiled(rule).template {
            Some(template) => template.render(captured),
            None => spec.summary.clone(),
        };
        self.spans.push(Span { rule, start, end, from_text: self.from_text });
        let (line, column) = self.index.position(start);
        let (snippet, snippet_column) = self.index.snippet(start, end);
        self.findings.push(Finding {
            rule: spec.id.clone(),
            severity: spec.severity,
            path: self.file.path.to_string(),
            line,
            column,
            message,
            snippet,
            snippet_column,
            role: self.file.role,
        });

        if self.counts[rule] >= MAX_FINDINGS_PER_RULE {
            tracing::debug!(
                rule = spec.id,
                path = self.file.path,
                "finding limit reached"
            );
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}
