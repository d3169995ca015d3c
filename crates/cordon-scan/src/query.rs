//! Tree-sitter query rules: compiling a rule's query for each grammar it
//! applies to, and running it on a parsed file.
//!
//! tree-sitter itself evaluates the text predicates (`#eq?`, `#match?`,
//! `#any-of?` and their negations). cordon adds predicates that look
//! inside a captured node, which plain queries cannot do because they
//! only match fixed shapes:
//!
//! - `(#has-call? @cap "name" ...)`: somewhere inside `@cap` is a call
//!   whose callee's last name is one of the names, so that
//!   `exec(zlib.decompress(base64.b64decode(s)).decode())` is found
//!   however the calls nest. Calls are Python `call`, JavaScript
//!   `call_expression` and `new_expression`, Rust `call_expression` and
//!   `macro_invocation`, and shell `command`; the last name of
//!   `a.b.c` is `c`.
//! - `(#contains? @cap "text" ...)`: the captured text contains one of
//!   the strings.
//! - `(#inside? @cap "kind" ...)`: one of `@cap`'s ancestors is a node
//!   of one of the kinds, so that `(#not-inside? @match
//!   "function_definition")` keeps to code that runs when the module
//!   itself runs.
//! - `(#resolves-to? @cap "name" ...)`: the captured expression stands
//!   for one of the dotted names once the file's aliases are followed
//!   (see [`crate::alias`]): `e` after `e = eval` is `eval`,
//!   `getattr(builtins, "exec")` is `exec`, `s` after `from os import
//!   system as s` and `__import__("os").system` are `os.system`.
//! - `#not-has-call?`, `#not-contains?`, `#not-inside?` and
//!   `#not-resolves-to?`: the negations.
//!
//! `#has-call?` follows aliases too: a call to `d` after `from base64
//! import b64decode as d` is a call to `b64decode`.
//!
//! Every query must have a capture named `match`: its node is where the
//! finding is reported.

use std::cell::OnceCell;
use std::ops::ControlFlow;
use std::time::Instant;

use tree_sitter::{
    Node, Query, QueryCursor, QueryCursorOptions, QueryMatch,
    QueryPredicateArg, StreamingIterator, Tree,
};

use crate::alias::Aliases;
use crate::grammar::Grammar;

/// The capture that marks where a finding is reported.
pub(crate) const MATCH_CAPTURE: &str = "match";

/// The most nodes `#has-call?` visits below one capture; deeper calls
/// are not seen. A capture this large is a whole module, not an
/// argument list.
const MAX_WALK_NODES: usize = 20_000;

/// A query compiled for one grammar.
pub(crate) struct CompiledQuery {
    query: Query,
    match_capture: u32,
    /// For each pattern of the query, cordon's own predicates.
    predicates: Vec<Vec<Predicate>>,
}

/// One of cordon's own query predicates.
#[derive(Debug)]
enum Predicate {
    HasCall { capture: u32, names: Vec<String>, negate: bool },
    Contains { capture: u32, needles: Vec<Vec<u8>>, negate: bool },
    Inside { capture: u32, kinds: Vec<String>, negate: bool },
    ResolvesTo { capture: u32, names: Vec<String>, negate: bool },
}

/// The aliases of the file being queried, read the first time a
/// predicate needs them and shared by every query run on the file.
pub(crate) type LazyAliases<'t> = OnceCell<Aliases<'t>>;

/// Why a query does not compile, with its 0-based row inside the query
/// text when tree-sitter said where.
#[derive(Debug)]
pub(crate) struct QueryProblem {
    pub(crate) row: Option<usize>,
    pub(crate) reason: String,
}

impl CompiledQuery {
    /// Compiles `source` for `grammar`.
    pub(crate) fn new(
        grammar: Grammar,
        source: &str,
    ) -> Result<CompiledQuery, QueryProblem> {
        let query = Query::new(&grammar.language(), source).map_err(|e| {
            QueryProblem {
                row: Some(e.row),
                reason: format!(
                    "{} query: {}",
                    grammar.name(),
                    e.message.trim()
                ),
            }
        })?;
        let match_capture = query
            .capture_index_for_name(MATCH_CAPTURE)
            .ok_or_else(|| QueryProblem {
                row: None,
                reason: "the query has no `@match` capture".into(),
            })?;
        let predicates = (0..query.pattern_count())
            .map(|i| own_predicates(&query, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| QueryProblem { row: None, reason })?;
        Ok(CompiledQuery { query, match_capture, predicates })
    }

    /// The names of the query's captures, for message templates.
    pub(crate) fn capture_names(&self) -> &[&str] {
        self.query.capture_names()
    }

    /// Runs the query over `tree` and calls `found` with the `@match`
    /// node and a way to read any capture's text, for each match, until
    /// `found` breaks or `deadline` passes.
    pub(crate) fn run<'t>(
        &self,
        tree: &'t Tree,
        text: &[u8],
        aliases: &LazyAliases<'t>,
        deadline: Instant,
        mut found: impl FnMut(
            Node<'t>,
            &dyn Fn(&str) -> Option<Node<'t>>,
        ) -> ControlFlow<()>,
    ) {
        let mut cursor = QueryCursor::new();
        let mut on_progress = |_: &tree_sitter::QueryCursorState| {
            if Instant::now() > deadline {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let options =
            QueryCursorOptions::new().progress_callback(&mut on_progress);
        let mut matches = cursor.matches_with_options(
            &self.query,
            tree.root_node(),
            text,
            options,
        );
        while let Some(m) = matches.next() {
            let aliases = || aliases.get_or_init(|| Aliases::of(tree, text));
            if !self.own_predicates_hold(m, text, &aliases) {
                continue;
            }
            let Some(node) = capture(m, self.match_capture) else { continue };
            let lookup = |name: &str| {
                let index = self.query.capture_index_for_name(name)?;
                capture(m, index)
            };
            if found(node, &lookup).is_break() {
                break;
            }
        }
    }

    fn own_predicates_hold<'t>(
        &self,
        m: &QueryMatch<'_, '_>,
        text: &[u8],
        aliases: &dyn Fn() -> &'t Aliases<'t>,
    ) -> bool {
        self.predicates[m.pattern_index].iter().all(|p| match p {
            Predicate::HasCall { capture: c, names, negate } => {
                let hit = capture(m, *c)
                    .is_some_and(|n| has_call(n, text, names, aliases));
                hit != *negate
            }
            Predicate::ResolvesTo { capture: c, names, negate } => {
                let hit = capture(m, *c).is_some_and(|n| {
                    let name = aliases().qualified(n, text);
                    name.is_some_and(|name| names.contains(&name))
                });
                hit != *negate
            }
            Predicate::Contains { capture: c, needles, negate } => {
                let hit =
                    capture(m, *c).is_some_and(|n| contains(n, text, needles));
                hit != *negate
            }
            Predicate::Inside { capture: c, kinds, negate } => {
                let hit = capture(m, *c).is_some_and(|n| inside(n, kinds));
                hit != *negate
            }
        })
    }
}

fn capture<'t>(m: &QueryMatch<'_, 't>, index: u32) -> Option<Node<'t>> {
    m.captures().iter().find(|c| c.index == index).map(|c| c.node)
}

/// Reads cordon's own predicates of pattern `index`, refusing any other
/// predicate or directive tree-sitter left to us.
fn own_predicates(
    query: &Query,
    index: usize,
) -> Result<Vec<Predicate>, String> {
    query
        .general_predicates(index)
        .iter()
        .map(|p| {
            let operator = p.operator.as_ref();
            let (negate, base) = match operator.strip_prefix("not-") {
                Some(base) => (true, base),
                None => (false, operator),
            };
            let (capture, strings) = predicate_args(operator, &p.args)?;
            match base {
                "has-call?" => {
                    Ok(Predicate::HasCall { capture, names: strings, negate })
                }
                "contains?" => {
                    let needles =
                        strings.into_iter().map(String::into_bytes).collect();
                    Ok(Predicate::Contains { capture, needles, negate })
                }
                "inside?" => {
                    Ok(Predicate::Inside { capture, kinds: strings, negate })
                }
                "resolves-to?" => Ok(Predicate::ResolvesTo {
                    capture,
                    names: strings,
                    negate,
                }),
                _ => Err(format!("unknown query predicate `#{operator}`")),
            }
        })
        .collect()
}

fn predicate_args(
    operator: &str,
    args: &[QueryPredicateArg],
) -> Result<(u32, Vec<String>), String> {
    let usage =
        || format!("`#{operator}` takes a capture and one or more strings");
    let (first, rest) = args.split_first().ok_or_else(usage)?;
    let QueryPredicateArg::Capture(capture) = first else {
        return Err(usage());
    };
    let strings = rest
        .iter()
        .map(|a| match a {
            QueryPredicateArg::String(s) if !s.is_empty() => Ok(s.to_string()),
            _ => Err(usage()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if strings.is_empty() {
        return Err(usage());
    }
    Ok((*capture, strings))
}

/// Whether a call to one of `names` is at or below `node`, by the
/// callee's last name or, for a plain name, the last name of what it
/// is an alias of. A plain name passed as an argument stands for the
/// value first assigned to it (`x` after `x = b64decode(s)`), one step
/// deep.
fn has_call<'t>(
    node: Node<'_>,
    text: &[u8],
    names: &[String],
    aliases: &dyn Fn() -> &'t Aliases<'t>,
) -> bool {
    walk_calls(node, text, names, aliases, true)
}

fn walk_calls<'t>(
    node: Node<'_>,
    text: &[u8],
    names: &[String],
    aliases: &dyn Fn() -> &'t Aliases<'t>,
    follow: bool,
) -> bool {
    let mut cursor = node.walk();
    let mut visited = 0;
    loop {
        let current = cursor.node();
        visited += 1;
        if let Some(callee) = callee_name(current, text)
            && names.iter().any(|n| n.as_bytes() == callee)
        {
            return true;
        }
        if calls_alias_of(current, text, names, aliases) {
            return true;
        }
        if follow
            && let Some(value) = argument_value(current, text, aliases)
            && walk_calls(value, text, names, aliases, false)
        {
            return true;
        }
        if visited >= MAX_WALK_NODES {
            return false;
        }
        // Depth-first: down, else right, else up until a right exists.
        if cursor.goto_first_child() || cursor.goto_next_sibling() {
            continue;
        }
        loop {
            if !cursor.goto_parent() || cursor.node() == node {
                return false;
            }
            if cursor.goto_next_sibling() {
                break;
            }
        }
    }
}

/// The value assigned to `node` when it is a plain name passed as an
/// argument.
fn argument_value<'t>(
    node: Node<'_>,
    text: &[u8],
    aliases: &dyn Fn() -> &'t Aliases<'t>,
) -> Option<Node<'t>> {
    let parent = node.parent()?;
    if !matches!(parent.kind(), "argument_list" | "arguments") {
        return None;
    }
    aliases().value(node, text)
}

/// Whether `node` is a Python or JavaScript call of a plain name that
/// is an alias of one of `names` (by its last part).
fn calls_alias_of<'t>(
    node: Node<'_>,
    text: &[u8],
    names: &[String],
    aliases: &dyn Fn() -> &'t Aliases<'t>,
) -> bool {
    if !matches!(node.kind(), "call" | "call_expression") {
        return false;
    }
    let Some(callee) = node.child_by_field_name("function") else {
        return false;
    };
    if callee.kind() != "identifier" {
        return false;
    }
    let Some(name) = aliases().qualified(callee, text) else { return false };
    let last = name.rsplit('.').next().unwrap_or(&name);
    names.iter().any(|n| n == last)
}

/// The last name of the callee, when `node` is a call.
fn callee_name<'a>(node: Node<'_>, text: &'a [u8]) -> Option<&'a [u8]> {
    let field = match node.kind() {
        "call" | "call_expression" => "function",
        "new_expression" => "constructor",
        "macro_invocation" => "macro",
        "command" => "name",
        _ => return None,
    };
    let mut callee = node.child_by_field_name(field)?;
    // `a.b.c` in Python, JavaScript and Rust: keep the last name.
    for _ in 0..64 {
        let last = ["attribute", "property", "field", "name"]
            .iter()
            .find_map(|f| callee.child_by_field_name(f));
        match last {
            Some(next) if next != callee => callee = next,
            _ => break,
        }
    }
    let bytes = text.get(callee.start_byte()..callee.end_byte())?;
    Some(bytes.trim_ascii())
}

/// Whether an ancestor of `node` is of one of the `kinds`.
fn inside(node: Node<'_>, kinds: &[String]) -> bool {
    let mut parent = node.parent();
    while let Some(current) = parent {
        if kinds.iter().any(|k| k == current.kind()) {
            return true;
        }
        parent = current.parent();
    }
    false
}

fn contains(node: Node<'_>, text: &[u8], needles: &[Vec<u8>]) -> bool {
    let Some(bytes) = text.get(node.start_byte()..node.end_byte()) else {
        return false;
    };
    needles.iter().any(|n| bytes.windows(n.len()).any(|w| w == n.as_slice()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn matches(grammar: Grammar, query: &str, code: &str) -> Vec<String> {
        let compiled = CompiledQuery::new(grammar, query).unwrap();
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&grammar.language()).unwrap();
        let tree = parser.parse(code, None).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = Vec::new();
        let aliases = LazyAliases::new();
        compiled.run(&tree, code.as_bytes(), &aliases, deadline, |node, _| {
            found.push(node.utf8_text(code.as_bytes()).unwrap().to_string());
            ControlFlow::Continue(())
        });
        found
    }

    const EXEC_DECODED: &str = r#"
        (call function: (identifier) @fn (#eq? @fn "exec")
              arguments: (argument_list) @args
              (#has-call? @args "b64decode")) @match
    "#;

    #[test]
    fn has_call_looks_through_nested_calls() {
        let code = "exec(zlib.decompress(base64.b64decode(s)).decode())\n";
        assert_eq!(matches(Grammar::Python, EXEC_DECODED, code).len(), 1);
        let code = "exec(compile(src, 'f', 'exec'))\n";
        assert!(matches(Grammar::Python, EXEC_DECODED, code).is_empty());
        let code = "exec(x)\nb64decode(y)\n";
        assert!(matches(Grammar::Python, EXEC_DECODED, code).is_empty());
    }

    #[test]
    fn has_call_follows_a_name_to_its_value() {
        let code = "x = base64.b64decode(b)\nexec(x)\n";
        assert_eq!(matches(Grammar::Python, EXEC_DECODED, code).len(), 1);
        let code = "x = read(b)\nexec(x)\nb64decode(x)\n";
        assert!(matches(Grammar::Python, EXEC_DECODED, code).is_empty());
        // One step only: a name for a name for a decoding is not seen.
        let code = "y = base64.b64decode(b)\nx = f(y)\nexec(x)\n";
        assert!(matches(Grammar::Python, EXEC_DECODED, code).is_empty());
    }

    #[test]
    fn has_call_reads_javascript_members_and_constructors() {
        let query = r#"(call_expression function: (identifier) @f (#eq? @f "eval")
                        arguments: (arguments) @a (#has-call? @a "from" "Function")) @match"#;
        let code = "eval(Buffer.from(p, 'base64').toString())";
        assert_eq!(matches(Grammar::JavaScript, query, code).len(), 1);
        let code = "eval(new Function('x'))";
        assert_eq!(matches(Grammar::JavaScript, query, code).len(), 1);
        let code = "eval(p)";
        assert!(matches(Grammar::JavaScript, query, code).is_empty());
    }

    #[test]
    fn has_call_and_resolves_to_follow_aliases() {
        let code = "from base64 import b64decode as d\nexec(d(s))\n";
        assert_eq!(matches(Grammar::Python, EXEC_DECODED, code).len(), 1);
        let code = "from base64 import b64encode as d\nexec(d(s))\n";
        assert!(matches(Grammar::Python, EXEC_DECODED, code).is_empty());

        let query = r#"((call function: (_) @f) @match
            (#resolves-to? @f "os.system"))"#;
        let code = "from os import system as s\ns(a)\nprint(b)\n";
        assert_eq!(matches(Grammar::Python, query, code), ["s(a)"]);
        let code = "import sys as os\nos.exit(1)\nsystem(c)\n";
        assert!(matches(Grammar::Python, query, code).is_empty());
        let query = r#"((call function: (_) @f) @match
            (#not-resolves-to? @f "print"))"#;
        assert_eq!(
            matches(Grammar::Python, query, "print(a)\nf(b)\n"),
            ["f(b)"]
        );
    }

    #[test]
    fn inside_looks_at_the_ancestors() {
        let code = "f(1)\ndef g():\n    f(2)\n";
        let query = r#"((call) @match
            (#not-inside? @match "function_definition"))"#;
        assert_eq!(matches(Grammar::Python, query, code), ["f(1)"]);
        let query = r#"((call) @match
            (#inside? @match "function_definition" "lambda"))"#;
        assert_eq!(matches(Grammar::Python, query, code), ["f(2)"]);
    }

    #[test]
    fn contains_and_its_negation_read_the_captured_text() {
        let query = r#"((string) @match (#contains? @match "webhooks"))"#;
        let code = "u = 'https://x/api/webhooks/1'\nv = 'hooks'\n";
        assert_eq!(matches(Grammar::Python, query, code).len(), 1);
        let query = r#"((string) @match (#not-contains? @match "webhooks"))"#;
        assert_eq!(matches(Grammar::Python, query, code), vec!["'hooks'"]);
    }

    #[test]
    fn queries_need_a_match_capture_and_known_predicates() {
        let err =
            CompiledQuery::new(Grammar::Python, "(call) @call").err().unwrap();
        assert!(err.reason.contains("@match"), "{}", err.reason);
        let query = r#"((call) @match (#frobnicate? @match "x"))"#;
        let err = CompiledQuery::new(Grammar::Python, query).err().unwrap();
        assert!(err.reason.contains("#frobnicate?"), "{}", err.reason);
        let query = r#"((call) @match (#has-call? @match))"#;
        let err = CompiledQuery::new(Grammar::Python, query).err().unwrap();
        assert!(err.reason.contains("takes a capture"), "{}", err.reason);
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = CompiledQuery::new(
            Grammar::Python,
            "\n(call function: (nope)) @match",
        )
        .err()
        .unwrap();
        assert_eq!(err.row, Some(1));
    }
}
