//! The manifest parsers, one per ecosystem, and the view of the package
//! they share: its files by path, relative to the package's root.

mod cargo;
mod gem;
mod npm;
mod pyimport;
mod python;
mod sources;

use std::collections::HashMap;

use crate::collect::RawFile;
use crate::metadata::Facts;
use crate::sniff::Format;

/// Names of directories that hold metadata, never a package's root.
const METADATA_DIRS: [&str; 3] = [".dist-info", ".egg-info", "EGG-INFO"];

/// Reads every manifest at the package's root.
pub(crate) fn read(
    files: &[RawFile],
    format: Format,
    gemspec: Option<&str>,
) -> Facts {
    let tree = Tree::new(files);
    let mut facts = Facts::default();
    facts.metadata.root = tree.root.clone();

    if let Some(yaml) = gemspec {
        gem::read(yaml, &tree, &mut facts);
    }
    python::read(&tree, &mut facts);
    pyimport::read(&tree, &mut facts);
    npm::read(&tree, format == Format::Directory, &mut facts);
    cargo::read(&tree, &mut facts);
    facts
}

/// The package's own files (not those of nested archives) by path.
pub(crate) struct Tree<'a> {
    root: String,
    files: HashMap<&'a str, &'a [u8]>,
}

impl<'a> Tree<'a> {
    fn new(files: &'a [RawFile]) -> Tree<'a> {
        let own = files.iter().filter(|f| f.depth == 0);
        Tree {
            root: root(files),
            files: own.map(|f| (f.path.as_str(), f.data.as_slice())).collect(),
        }
    }

    /// The full path of a path relative to the root.
    fn full(&self, rel: &str) -> String {
        format!("{}{}", self.root, rel)
    }

    /// The contents of the file at `rel` below the root.
    fn get(&self, rel: &str) -> Option<&'a [u8]> {
        self.files.get(self.full(rel).as_str()).copied()
    }

    /// The full path of the file a manifest names relative to the root
    /// (`./scripts/x.js`, `build.rs`), if the package holds it. Names
    /// that leave the package resolve to nothing.
    fn resolve(&self, name: &str) -> Option<String> {
        let normal = crate::path::normalise(name.as_bytes(), false);
        let escapes = normal.issues.iter().any(|(kind, detail)| {
            *kind == crate::AnomalyKind::PathTraversal
                && detail.contains("outside")
        });
        if escapes || normal.path.is_empty() {
            return None;
        }
        let full = self.full(&normal.path);
        self.files.contains_key(full.as_str()).then_some(full)
    }

    /// The full paths of the package's own files.
    fn paths(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.files.keys().copied()
    }
}

/// The one directory all of the package's own files sit in, with a
/// final `/`, or empty when there is none (or it holds only metadata).
pub(crate) fn root(files: &[RawFile]) -> String {
    let mut top: Option<&str> = None;
    for file in files.iter().filter(|f| f.depth == 0) {
        let Some((first, _)) = file.path.split_once('/') else {
            return String::new();
        };
        match top {
            Some(top) if top != first => return String::new(),
            _ => top = Some(first),
        }
    }
    match top {
        Some(top) if !METADATA_DIRS.iter().any(|d| top.ends_with(d)) => {
            format!("{top}/")
        }
        _ => String::new(),
    }
}

/// Text of a manifest, lossy: a manifest with a stray byte is still
/// worth reading.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<RawFile> {
        let raw = |path: &&str| RawFile {
            path: path.to_string(),
            data: Vec::new(),
            depth: 0,
        };
        paths.iter().map(raw).collect()
    }

    #[test]
    fn one_top_directory_is_the_root() {
        assert_eq!(
            root(&files(&["foo-1.0/setup.py", "foo-1.0/a/b"])),
            "foo-1.0/"
        );
        assert_eq!(root(&files(&["package/package.json"])), "package/");
    }

    #[test]
    fn several_tops_or_a_top_file_mean_no_root() {
        assert_eq!(root(&files(&["a/x", "b/y"])), "");
        assert_eq!(root(&files(&["a/x", "setup.py"])), "");
        assert_eq!(root(&files(&["x.dist-info/METADATA"])), "");
        assert_eq!(root(&[]), "");
    }

    #[test]
    fn resolve_stays_inside_the_package() {
        let files = files(&["p/a.js", "p/lib/b.js"]);
        let tree = Tree::new(&files);

        assert_eq!(tree.resolve("./a.js").as_deref(), Some("p/a.js"));
        assert_eq!(tree.resolve("lib/../a.js").as_deref(), Some("p/a.js"));
        assert_eq!(tree.resolve("../p/a.js"), None);
        assert_eq!(tree.resolve("missing.js"), None);
    }
}
