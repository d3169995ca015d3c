//! Rust crates: `Cargo.toml` for identity, the build script, and the
//! library of a procedural macro, which runs inside the compiler.

use cordon_report::Ecosystem;

use super::{Tree, text};
use crate::metadata::{Facts, Identity};

/// Reads the `Cargo.toml` at the root.
pub(super) fn read(tree: &Tree<'_>, facts: &mut Facts) {
    let Some(data) = tree.get("Cargo.toml") else { return };
    facts.manifest(tree.full("Cargo.toml"));
    let Ok(table) = toml::from_str::<toml::Table>(&text(data)) else {
        return;
    };
    let package = table.get("package").and_then(|v| v.as_table());

    let string = |key: &str| package?.get(key)?.as_str().map(str::to_string);
    facts.identify(Identity {
        ecosystem: Ecosystem::Crates,
        name: string("name"),
        version: string("version"),
        rank: 3,
    });
    build_script(package.and_then(|p| p.get("build")), tree, facts);
    proc_macro(&table, tree, facts);
    dependencies(&table, facts);
}

/// `package.build` names the build script; without it, `build.rs` is
/// one when present; `build = false` turns it off.
fn build_script(
    build: Option<&toml::Value>,
    tree: &Tree<'_>,
    facts: &mut Facts,
) {
    let path = match build {
        Some(toml::Value::String(path)) => path.as_str(),
        Some(toml::Value::Boolean(false)) => return,
        _ => "build.rs",
    };
    facts.install.extend(tree.resolve(path));
}

/// A proc-macro's library, and every module beside and below it (all
/// compiled into the macro), runs at build time. Binaries under `bin/`
/// do not.
fn proc_macro(table: &toml::Table, tree: &Tree<'_>, facts: &mut Facts) {
    let Some(lib) = table.get("lib").and_then(|v| v.as_table()) else {
        return;
    };
    let flag = lib.get("proc-macro").or_else(|| lib.get("proc_macro"));
    if flag.and_then(|v| v.as_bool()) != Some(true) {
        return;
    }
    facts.metadata.proc_macro = true;

    let lib_path =
        lib.get("path").and_then(|v| v.as_str()).unwrap_or("src/lib.rs");
    let Some(lib_file) = tree.resolve(lib_path) else { return };
    let dir = match lib_file.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/"),
        None => String::new(),
    };
    let bin = format!("{dir}bin/");
    let modules = tree.paths().filter(|path| {
        path.starts_with(&dir)
            && path.ends_with(".rs")
            && !path.starts_with(&bin)
    });
    let modules: Vec<String> = modules.map(str::to_string).collect();
    facts.install.extend(modules);
    facts.install.insert(lib_file);
}

/// The names of normal and build dependencies.
fn dependencies(table: &toml::Table, facts: &mut Facts) {
    for key in ["dependencies", "build-dependencies"] {
        if let Some(deps) = table.get(key).and_then(|v| v.as_table()) {
            facts.metadata.dependencies.extend(deps.keys().cloned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::RawFile;

    fn facts_of(manifest: &str, paths: &[&str]) -> Facts {
        let mut files: Vec<RawFile> = paths
            .iter()
            .map(|p| RawFile {
                path: format!("c-1.0.0/{p}"),
                data: Vec::new(),
                depth: 0,
            })
            .collect();
        files.push(RawFile {
            path: "c-1.0.0/Cargo.toml".into(),
            data: manifest.as_bytes().to_vec(),
            depth: 0,
        });
        let tree = Tree::new(&files);
        let mut facts = Facts::default();
        read(&tree, &mut facts);
        facts
    }

    #[test]
    fn build_rs_runs_at_build_time() {
        let manifest = "[package]\nname = \"c\"\nversion = \"1.0.0\"\n";

        let facts = facts_of(manifest, &["build.rs", "src/lib.rs"]);

        assert!(facts.install.contains("c-1.0.0/build.rs"));
        assert!(!facts.install.contains("c-1.0.0/src/lib.rs"));
        assert_eq!(facts.identity.unwrap().version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn a_named_build_script_or_none() {
        let named = "[package]\nname = \"c\"\nbuild = \"tools/gen.rs\"\n";
        let none = "[package]\nname = \"c\"\nbuild = false\n";
        let paths = ["build.rs", "tools/gen.rs"];

        let named = facts_of(named, &paths);
        let none = facts_of(none, &paths);

        assert!(named.install.contains("c-1.0.0/tools/gen.rs"));
        assert!(!named.install.contains("c-1.0.0/build.rs"));
        assert!(none.install.is_empty());
    }

    #[test]
    fn proc_macro_libraries_run_in_the_compiler() {
        let manifest = "[package]\nname = \"m\"\n[lib]\nproc-macro = true\n";
        let paths =
            ["src/lib.rs", "src/expand.rs", "src/bin/tool.rs", "tests/t.rs"];

        let facts = facts_of(manifest, &paths);

        assert!(facts.metadata.proc_macro);
        assert!(facts.install.contains("c-1.0.0/src/lib.rs"));
        assert!(facts.install.contains("c-1.0.0/src/expand.rs"));
        assert!(!facts.install.contains("c-1.0.0/src/bin/tool.rs"));
        assert!(!facts.install.contains("c-1.0.0/tests/t.rs"));
    }
}
