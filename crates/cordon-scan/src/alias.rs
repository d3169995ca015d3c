//! Names that stand for other names in one file, so that a query can see
//! `exec` behind `e = exec`, `from os import system as s`,
//! `import base64 as b`, `getattr(builtins, "exec")` and
//! `__import__("os").system`.
//!
//! [`Aliases::of`] reads a file's syntax tree once for its bindings:
//! Python imports (`import a.b as c`, `from a import b as c`, `from a
//! import b`), Python assignments and JavaScript declarations and
//! assignments of a plain name to a name, an attribute or a `getattr`.
//! [`Aliases::qualified`] then turns an expression into the dotted name
//! it stands for (`os.system`, `exec`), following bindings a few steps.
//! Builtins lose their module (`builtins.exec` is `exec`). Nothing here
//! runs code or knows more than one file: it is a reader's shortcut, not
//! an interpreter.

use std::collections::HashMap;

use tree_sitter::{Node, Tree};

/// The most nodes read for bindings; a larger tree keeps what was found.
const MAX_NODES: usize = 500_000;

/// How many bindings one name is followed through.
const MAX_HOPS: usize = 8;

/// Kinds of nodes that hold no binding worth reading: Python
/// expressions (its assignments and imports are statements, never inside
/// an expression) and, in both languages, literals and comments. Not
/// walking into them keeps reading the bindings of a large file cheap.
const SKIPPED: [&str; 22] = [
    "call",
    "argument_list",
    "attribute",
    "subscript",
    "list",
    "tuple",
    "set",
    "dictionary",
    "binary_operator",
    "boolean_operator",
    "comparison_operator",
    "list_comprehension",
    "dictionary_comprehension",
    "concatenated_string",
    "string",
    "comment",
    "integer",
    "float",
    "template_string",
    "member_expression",
    "binary_expression",
    "number",
];

/// The modules whose members are the builtins.
const BUILTIN_MODULES: [&str; 2] = ["builtins", "__builtins__"];

/// What a name is bound to.
#[derive(Clone, Copy, Debug)]
enum Target<'t> {
    /// An imported module or member: the dotted name's node, and the
    /// module it was imported from (`from a import b`).
    Import { name: Node<'t>, from: Option<Node<'t>> },
    /// The value of an assignment.
    Value(Node<'t>),
}

/// The bindings of one file.
#[derive(Debug, Default)]
pub(crate) struct Aliases<'t> {
    bindings: HashMap<Vec<u8>, Target<'t>>,
}

impl<'t> Aliases<'t> {
    /// Reads the bindings of `tree`, whose text is `text`.
    pub(crate) fn of(tree: &'t Tree, text: &[u8]) -> Aliases<'t> {
        let mut aliases = Aliases::default();
        let mut cursor = tree.walk();
        let mut visited = 0;
        'walk: loop {
            aliases.read(cursor.node(), text);
            visited += 1;
            if visited >= MAX_NODES {
                break;
            }
            let skip = SKIPPED.contains(&cursor.node().kind());
            if (!skip && cursor.goto_first_child())
                || cursor.goto_next_sibling()
            {
                continue;
            }
            loop {
                if !cursor.goto_parent() {
                    break 'walk;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        aliases
    }

    /// The dotted name `node` stands for, with bindings followed:
    /// `os.system` for `s` after `from os import system as s`.
    pub(crate) fn qualified(
        &self,
        node: Node<'_>,
        text: &[u8],
    ) -> Option<String> {
        let name = self.resolve(node, text, MAX_HOPS)?;
        let name = BUILTIN_MODULES
            .iter()
            .find_map(|m| name.strip_prefix(m)?.strip_prefix('.'))
            .map_or(name.clone(), str::to_string);
        Some(name)
    }

    /// The value first assigned to the plain name `node`, when it was
    /// assigned one (`x` in `x = b64decode(s)`).
    pub(crate) fn value(
        &self,
        node: Node<'_>,
        text: &[u8],
    ) -> Option<Node<'t>> {
        if node.kind() != "identifier" {
            return None;
        }
        let name = text.get(node.start_byte()..node.end_byte())?;
        match self.bindings.get(name)? {
            Target::Value(value) => Some(*value),
            Target::Import { .. } => None,
        }
    }

    fn read(&mut self, node: Node<'t>, text: &[u8]) {
        match node.kind() {
            "import_statement" => self.imports(node, None, text),
            "import_from_statement" => {
                let module = node.child_by_field_name("module_name");
                self.imports(node, module, text);
            }
            "assignment" | "assignment_expression" => {
                self.assign(node, "left", "right", text);
            }
            "variable_declarator" => self.assign(node, "name", "value", text),
            _ => {}
        }
    }

    /// `import a.b as c`, `from m import b as c`, `from m import b`.
    fn imports(
        &mut self,
        node: Node<'t>,
        from: Option<Node<'t>>,
        text: &[u8],
    ) {
        let mut cursor = node.walk();
        for child in node.children_by_field_name("name", &mut cursor) {
            let (name, alias) = match child.kind() {
                "aliased_import" => (
                    child.child_by_field_name("name"),
                    child.child_by_field_name("alias"),
                ),
                "dotted_name" if from.is_some() => (Some(child), Some(child)),
                _ => continue,
            };
            let (Some(name), Some(alias)) = (name, alias) else { continue };
            let target = Target::Import { name, from };
            self.bind(alias, target, text);
        }
    }

    fn assign(
        &mut self,
        node: Node<'t>,
        left: &str,
        right: &str,
        text: &[u8],
    ) {
        let (Some(left), Some(right)) =
            (node.child_by_field_name(left), node.child_by_field_name(right))
        else {
            return;
        };
        let plain = matches!(
            right.kind(),
            "identifier" | "attribute" | "member_expression" | "call"
        );
        if left.kind() == "identifier" && plain {
            self.bind(left, Target::Value(right), text);
        }
    }

    /// Keeps the first binding of a name.
    fn bind(&mut self, name: Node<'t>, target: Target<'t>, text: &[u8]) {
        let Some(bytes) = text.get(name.start_byte()..name.end_byte()) else {
            return;
        };
        self.bindings.entry(bytes.to_vec()).or_insert(target);
    }

    fn resolve(
        &self,
        node: Node<'_>,
        text: &[u8],
        hops: usize,
    ) -> Option<String> {
        let own = |n: Node<'_>| {
            let bytes = text.get(n.start_byte()..n.end_byte())?;
            std::str::from_utf8(bytes).ok().map(str::to_string)
        };
        match node.kind() {
            "identifier" => {
                let name = own(node)?;
                match self.bindings.get(name.as_bytes()) {
                    Some(target) if hops > 0 => {
                        self.target(*target, text, hops - 1).or(Some(name))
                    }
                    _ => Some(name),
                }
            }
            "attribute" | "member_expression" => {
                let object = node.child_by_field_name("object")?;
                let field = ["attribute", "property"]
                    .iter()
                    .find_map(|f| node.child_by_field_name(f))?;
                let object = self.resolve(object, text, hops)?;
                Some(format!("{object}.{}", own(field)?))
            }
            "call" => self.call(node, text, hops),
            "parenthesized_expression" => {
                self.resolve(node.named_child(0)?, text, hops)
            }
            _ => None,
        }
    }

    fn target(
        &self,
        target: Target<'_>,
        text: &[u8],
        hops: usize,
    ) -> Option<String> {
        let own = |n: Node<'_>| {
            let bytes = text.get(n.start_byte()..n.end_byte())?;
            std::str::from_utf8(bytes).ok().map(str::to_string)
        };
        match target {
            Target::Import { name, from: None } => own(name),
            Target::Import { name, from: Some(module) } => {
                Some(format!("{}.{}", own(module)?, own(name)?))
            }
            Target::Value(value) => self.resolve(value, text, hops),
        }
    }

    /// `getattr(x, "name")`, `__import__("m")` and
    /// `importlib.import_module("m")`.
    fn call(
        &self,
        node: Node<'_>,
        text: &[u8],
        hops: usize,
    ) -> Option<String> {
        let callee = node.child_by_field_name("function")?;
        let callee = self.resolve(callee, text, hops)?;
        let arguments = node.child_by_field_name("arguments")?;
        let argument = |i| arguments.named_child(i);
        match callee.as_str() {
            "getattr" | "builtins.getattr" => {
                let object = self.resolve(argument(0)?, text, hops)?;
                Some(format!("{object}.{}", string(argument(1)?, text)?))
            }
            "__import__"
            | "builtins.__import__"
            | "importlib.import_module" => string(argument(0)?, text),
            _ => None,
        }
    }
}

/// The contents of a plain string literal.
fn string(node: Node<'_>, text: &[u8]) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let bytes = text.get(node.start_byte()..node.end_byte())?;
    let literal = std::str::from_utf8(bytes).ok()?;
    let inner = literal.trim_start_matches(['r', 'b', 'u', 'R', 'B', 'U']);
    let quote = inner.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = inner.strip_prefix(quote)?.strip_suffix(quote)?;
    let ok = !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.".contains(c));
    ok.then(|| inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Grammar;

    /// The qualified name of the callee of the last call statement in
    /// `code`.
    fn last_callee(grammar: Grammar, code: &str) -> Option<String> {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&grammar.language()).unwrap();
        let tree = parser.parse(code, None).unwrap();
        let aliases = Aliases::of(&tree, code.as_bytes());
        let mut calls = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            let statement = node
                .parent()
                .is_some_and(|p| p.kind() == "expression_statement");
            if matches!(node.kind(), "call" | "call_expression") && statement {
                calls.push(node);
            }
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        let last = calls.into_iter().max_by_key(|n| n.start_byte())?;
        let callee = last.child_by_field_name("function")?;
        aliases.qualified(callee, code.as_bytes())
    }

    #[test]
    fn python_imports_and_assignments_are_followed() {
        let py = Grammar::Python;
        let cases = [
            ("from os import system as s\ns(cmd)\n", "os.system"),
            ("from os import system\nsystem(cmd)\n", "os.system"),
            ("import os as o\no.system(cmd)\n", "os.system"),
            ("import base64 as b\nb.b64decode(x)\n", "base64.b64decode"),
            ("e = eval\ne(x)\n", "eval"),
            ("import builtins\ngetattr(builtins, 'exec')(x)\n", "exec"),
            ("r = getattr(__builtins__, \"eval\")\nr(x)\n", "eval"),
            ("__import__('os').system(cmd)\n", "os.system"),
            (
                "import importlib\nimportlib.import_module('os').popen(c)\n",
                "os.popen",
            ),
            ("a = b\nb = a\na(x)\n", "a"),
        ];
        for (code, want) in cases {
            assert_eq!(last_callee(py, code).as_deref(), Some(want), "{code}");
        }
    }

    #[test]
    fn javascript_declarations_are_followed() {
        let code = "const e = eval;\ne(atob(p));\n";
        assert_eq!(
            last_callee(Grammar::JavaScript, code).as_deref(),
            Some("eval")
        );
        let code = "let run = cp.exec;\nrun(cmd);\n";
        assert_eq!(
            last_callee(Grammar::JavaScript, code).as_deref(),
            Some("cp.exec")
        );
    }

    #[test]
    fn computed_names_stay_unknown() {
        let py = Grammar::Python;
        assert_eq!(last_callee(py, "getattr(builtins, n)(x)\n"), None);
        assert_eq!(last_callee(py, "__import__(m).system(x)\n"), None);
        assert_eq!(last_callee(py, "print(x)\n").as_deref(), Some("print"));
    }
}
