//! Python modules whose top level runs when the package is imported.
//!
//! Importing a package runs its `__init__.py`, and with it every module
//! that file imports at its own top level, and so on. Malicious packages
//! keep `__init__.py` to one innocent line (`from .core import run`) and
//! put the payload in the module it pulls in, so the import-time role
//! follows those imports through the package's own files.
//!
//! The imports are read from the text, line by line: top-level `import`
//! and `from ... import` statements, including those in top-level `try`
//! and `if` blocks, but not those inside a function or class body, which
//! run only when called. Relative imports resolve against the importing
//! file, absolute ones against the package's top-level directories (and
//! `src/`). What cannot be resolved inside the package is ignored.

use std::collections::{HashSet, VecDeque};

use super::{Tree, text};
use crate::metadata::Facts;
use crate::role;

/// The most modules followed from the `__init__.py` files of one
/// package, so that a package of thousands of modules costs a bounded
/// amount of work.
const MAX_MODULES: usize = 500;

/// Marks as import-time code every module reached from a package's
/// `__init__.py` files through top-level imports.
pub(super) fn read(tree: &Tree<'_>, facts: &mut Facts) {
    // Shallowest first, then by name: the same package always gets the
    // same modules, also when the limit cuts the walk short.
    let mut seeds: Vec<&str> = tree
        .paths()
        .filter(|path| is_init(path) && runs_when_imported(tree, path))
        .collect();
    seeds.sort_by_key(|path| (path.matches('/').count(), *path));
    let mut queue: VecDeque<String> =
        seeds.into_iter().map(str::to_string).collect();
    let mut seen: HashSet<String> = queue.iter().cloned().collect();

    while let Some(path) = queue.pop_front() {
        let Some(data) = tree.files.get(path.as_str()) else { continue };
        for module in top_level_imports(&text(data)) {
            for found in resolve(tree, &path, &module) {
                let fresh = seen.len() < MAX_MODULES
                    && runs_when_imported(tree, &found)
                    && seen.insert(found.clone());
                if fresh {
                    facts.import.insert(found.clone());
                    queue.push_back(found);
                }
            }
        }
    }
}

fn is_init(path: &str) -> bool {
    path == "__init__.py" || path.ends_with("/__init__.py")
}

/// Whether the file at `path` is the package's own code by the naming
/// conventions (not a test, a doc, an example or tooling), so that
/// following imports never turns a test helper into import-time code.
fn runs_when_imported(tree: &Tree<'_>, path: &str) -> bool {
    let rel = path.strip_prefix(tree.root.as_str()).unwrap_or(path);
    let (dirs, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let rooted = !tree.root.is_empty();
    matches!(
        role::by_convention(dirs, name, rooted),
        cordon_report::Role::Import | cordon_report::Role::Other
    )
}

/// An import statement's target: how many leading dots (0 for an
/// absolute import), the dotted module, and the names imported from it.
#[derive(Debug, PartialEq, Eq)]
struct Import {
    dots: usize,
    module: Vec<String>,
    names: Vec<String>,
}

/// The imports of `source` that run when the module itself runs.
fn top_level_imports(source: &str) -> Vec<Import> {
    let mut imports = Vec::new();
    let mut in_body = false;
    for line in source.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.len() == line.len() {
            in_body = starts_body(trimmed);
        }
        if in_body {
            continue;
        }
        for statement in trimmed.split(';') {
            imports.extend(parse_import(statement.trim()));
        }
    }
    imports
}

/// Whether a top-level line opens a function or class body (or decorates
/// one), whose indented lines do not run at import.
fn starts_body(line: &str) -> bool {
    ["def ", "async def ", "class ", "@"].iter().any(|p| line.starts_with(p))
}

/// Parses `import a.b, c` or `from ..a import b, c`.
fn parse_import(statement: &str) -> Vec<Import> {
    if let Some(rest) = statement.strip_prefix("import ") {
        return rest
            .split(',')
            .filter_map(|part| {
                let module = part.split_whitespace().next()?;
                Some(Import { dots: 0, module: dotted(module), names: vec![] })
            })
            .collect();
    }
    let Some(rest) = statement.strip_prefix("from ") else {
        return Vec::new();
    };
    let Some((source, names)) = rest.split_once(" import ") else {
        return Vec::new();
    };
    let source = source.trim();
    let dots = source.len() - source.trim_start_matches('.').len();
    let names = names
        .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .split(',')
        .filter_map(|n| n.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let module = dotted(source.trim_start_matches('.'));
    vec![Import { dots, module, names }]
}

fn dotted(text: &str) -> Vec<String> {
    let valid = |part: &&str| {
        !part.is_empty()
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    text.split('.').filter(valid).map(str::to_string).collect()
}

/// The package's files an import may load: the module itself and, for
/// `from m import n`, a submodule `m/n`.
fn resolve(tree: &Tree<'_>, importer: &str, import: &Import) -> Vec<String> {
    let bases = match import.dots {
        0 => absolute_bases(tree),
        dots => relative_base(importer, dots).into_iter().collect(),
    };
    let mut found = Vec::new();
    for base in bases {
        let module = join(&base, &import.module.join("/"));
        found.extend(module_file(tree, &module));
        for name in &import.names {
            found.extend(module_file(tree, &join(&module, name)));
        }
    }
    found
}

/// The directory a relative import with `dots` leading dots starts from.
fn relative_base(importer: &str, dots: usize) -> Option<String> {
    let mut dir = importer.rsplit_once('/').map_or("", |(dir, _)| dir);
    for _ in 1..dots {
        dir = dir.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    Some(dir.to_string())
}

/// Where absolute imports of the package's own modules start: its root
/// and its `src/` directory.
fn absolute_bases(tree: &Tree<'_>) -> Vec<String> {
    let root = tree.root.trim_end_matches('/').to_string();
    vec![root.clone(), join(&root, "src")]
}

fn join(base: &str, rel: &str) -> String {
    match (base.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}/{rel}"),
    }
}

/// `module.py` or `module/__init__.py`, whichever the package holds.
fn module_file(tree: &Tree<'_>, module: &str) -> Option<String> {
    if module.is_empty() {
        return None;
    }
    [format!("{module}.py"), format!("{module}/__init__.py")]
        .into_iter()
        .find(|path| tree.files.contains_key(path.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::RawFile;

    fn files(entries: &[(&str, &str)]) -> Vec<RawFile> {
        let raw = |(path, data): &(&str, &str)| RawFile {
            path: path.to_string(),
            data: data.as_bytes().to_vec(),
            depth: 0,
        };
        entries.iter().map(raw).collect()
    }

    fn imported(entries: &[(&str, &str)]) -> Vec<String> {
        let files = files(entries);
        let tree = Tree::new(&files);
        let mut facts = Facts::default();
        read(&tree, &mut facts);
        let mut paths: Vec<String> = facts.import.into_iter().collect();
        paths.sort();
        paths
    }

    #[test]
    fn relative_imports_are_followed_transitively() {
        let paths = imported(&[
            ("p-1.0/p/__init__.py", "from .core import run\n"),
            ("p-1.0/p/core.py", "from . import util\nimport os\n"),
            ("p-1.0/p/util.py", "x = 1\n"),
            ("p-1.0/p/unused.py", "y = 2\n"),
        ]);

        assert_eq!(paths, ["p-1.0/p/core.py", "p-1.0/p/util.py"]);
    }

    #[test]
    fn absolute_imports_resolve_against_the_root_and_src() {
        let paths = imported(&[
            ("p-1.0/src/p/__init__.py", "import p.net\nfrom p.x import y\n"),
            ("p-1.0/src/p/net.py", ""),
            ("p-1.0/src/p/x.py", ""),
        ]);

        assert_eq!(paths, ["p-1.0/src/p/net.py", "p-1.0/src/p/x.py"]);
    }

    #[test]
    fn imports_inside_functions_and_into_tests_are_not_followed() {
        let paths = imported(&[
            (
                "p/__init__.py",
                "def later():\n    from .slow import x\n\
                 try:\n    from .fast import y\nexcept ImportError:\n    pass\n\
                 from .tests import helper\n",
            ),
            ("p/slow.py", ""),
            ("p/fast.py", ""),
            ("p/tests/helper.py", ""),
        ]);

        assert_eq!(paths, ["p/fast.py"]);
    }

    #[test]
    fn parent_imports_stay_inside_the_package() {
        assert_eq!(relative_base("a/b/c.py", 1).as_deref(), Some("a/b"));
        assert_eq!(relative_base("a/b/c.py", 2).as_deref(), Some("a"));
        assert_eq!(relative_base("a/b/c.py", 5).as_deref(), Some(""));
    }
}
