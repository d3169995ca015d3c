//! npm: `package.json` for identity, the lifecycle scripts that run at
//! install time and the files they run, and the entry points that run
//! when the package is required.

use std::collections::{BTreeMap, HashSet};

use cordon_report::Ecosystem;
use serde_json::Value;

use super::{Tree, sources, text};
use crate::metadata::{
    DirectDependency, Facts, INSTALL_SCRIPTS, Identity, PREPARE_SCRIPTS,
};

/// How many `npm run` hops are followed from a lifecycle script.
const MAX_RUN_DEPTH: usize = 8;

/// Suffixes node tries when a script or entry point omits them.
const SUFFIXES: [&str; 6] = ["", ".js", ".cjs", ".mjs", "/index.js", ".json"];

/// Reads the `package.json` at the root; `prepare` scripts count when
/// the package is a directory.
pub(super) fn read(tree: &Tree<'_>, directory: bool, facts: &mut Facts) {
    let Some(data) = tree.get("package.json") else { return };
    let manifest = tree.full("package.json");
    facts.manifest(manifest.clone());
    let Ok(Value::Object(json)) = serde_json::from_str(&text(data)) else {
        return;
    };

    let string = |key: &str| json.get(key)?.as_str().map(str::to_string);
    facts.identify(Identity {
        ecosystem: Ecosystem::Npm,
        name: string("name"),
        version: string("version"),
        rank: 2,
    });
    facts.metadata.scripts = scripts(json.get("scripts"));
    facts.metadata.install_hooks = hooks(&facts.metadata.scripts, directory);
    install_files(tree, facts, &manifest);
    entry_points(&json, tree, facts);
    dependencies(&json, facts);
    remote_dependencies(&json, &manifest, facts);

    // node-gyp runs `binding.gyp`, whose `<!(...)` expansions are
    // shell commands, when the package has native code.
    facts.install.extend(tree.resolve("binding.gyp"));
}

/// The `scripts` map, keeping only string commands.
fn scripts(value: Option<&Value>) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = value else { return BTreeMap::new() };
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// The lifecycle scripts that run at install, in npm's order.
fn hooks(scripts: &BTreeMap<String, String>, directory: bool) -> Vec<String> {
    let prepare = PREPARE_SCRIPTS.iter().filter(|_| directory);
    INSTALL_SCRIPTS
        .iter()
        .chain(prepare)
        .filter(|hook| scripts.contains_key(**hook))
        .map(|hook| hook.to_string())
        .collect()
}

/// Marks the files the install scripts run, and `package.json` itself
/// when it has install scripts: the commands live there.
fn install_files(tree: &Tree<'_>, facts: &mut Facts, manifest: &str) {
    let scripts = &facts.metadata.scripts;
    let mut found = HashSet::new();
    let mut visited = HashSet::new();
    for hook in &facts.metadata.install_hooks {
        follow(hook, scripts, tree, 0, &mut visited, &mut found);
    }
    if !visited.is_empty() {
        found.insert(manifest.to_string());
    }
    facts.install.extend(found);
}

/// Collects the files a script runs, and those of the scripts it runs
/// with `npm run` (with their `pre` and `post` scripts).
fn follow(
    name: &str,
    scripts: &BTreeMap<String, String>,
    tree: &Tree<'_>,
    depth: usize,
    visited: &mut HashSet<String>,
    found: &mut HashSet<String>,
) {
    let Some(command) = scripts.get(name) else { return };
    if depth > MAX_RUN_DEPTH || !visited.insert(name.to_string()) {
        return;
    }
    let words = words(command);
    found.extend(words.iter().filter_map(|word| file(word, tree)));
    for target in run_targets(&words, scripts) {
        for script in
            [format!("pre{target}"), target.clone(), format!("post{target}")]
        {
            follow(&script, scripts, tree, depth + 1, visited, found);
        }
    }
}

/// The words of a shell command, split at blanks and operators, with
/// quotes removed and `--flag=value` reduced to its value.
fn words(command: &str) -> Vec<String> {
    command
        .split(|c: char| c.is_whitespace() || ";&|()<>`".contains(c))
        .map(|word| word.trim_matches(|c| c == '"' || c == '\''))
        .map(|word| word.rsplit('=').next().unwrap_or(word))
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect()
}

/// The scripts a command runs through the package manager:
/// `npm run x`, `npm run-script x`, `yarn x`, `pnpm run x`.
fn run_targets(
    words: &[String],
    scripts: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut targets = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if !matches!(word.as_str(), "npm" | "yarn" | "pnpm" | "bun") {
            continue;
        }
        let mut rest = words.iter().skip(i + 1);
        let next = rest.next();
        let target = match next.map(String::as_str) {
            Some("run" | "run-script") => rest.next(),
            _ => next,
        };
        targets.extend(target.filter(|t| scripts.contains_key(*t)).cloned());
    }
    targets
}

/// The package file a word of a command names, trying the suffixes node
/// would.
fn file(word: &str, tree: &Tree<'_>) -> Option<String> {
    if word.contains('$') || word.starts_with('-') {
        return None;
    }
    SUFFIXES.iter().find_map(|suffix| tree.resolve(&format!("{word}{suffix}")))
}

/// Marks `main`, `module`, `browser` and every path in `exports` as run
/// at require time; `index.js` when there is no `main`.
fn entry_points(
    json: &serde_json::Map<String, Value>,
    tree: &Tree<'_>,
    facts: &mut Facts,
) {
    let mut names = Vec::new();
    for key in ["main", "module", "browser"] {
        if let Some(Value::String(name)) = json.get(key) {
            names.push(name.clone());
        }
    }
    if !json.contains_key("main") {
        names.push("index.js".to_string());
    }
    if let Some(exports) = json.get("exports") {
        strings(exports, &mut names);
    }
    let files = names.iter().filter_map(|name| file(name, tree));
    facts.import.extend(files);
}

/// Every string inside a JSON value, depth first.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The names of runtime dependencies.
fn dependencies(json: &serde_json::Map<String, Value>, facts: &mut Facts) {
    for key in ["dependencies", "optionalDependencies"] {
        if let Some(Value::Object(map)) = json.get(key) {
            facts.metadata.dependencies.extend(map.keys().cloned());
        }
    }
}

/// The dependencies an install fetches from a URL or git rather than
/// the registry.
fn remote_dependencies(
    json: &serde_json::Map<String, Value>,
    manifest: &str,
    facts: &mut Facts,
) {
    for key in ["dependencies", "optionalDependencies"] {
        let Some(Value::Object(map)) = json.get(key) else { continue };
        for (name, spec) in map {
            let Some(spec) = spec.as_str() else { continue };
            if sources::npm_is_remote(spec) {
                facts.metadata.direct_dependencies.push(DirectDependency {
                    name: name.clone(),
                    source: spec.to_string(),
                    manifest: manifest.to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::RawFile;

    fn facts_of(manifest: &str, paths: &[&str]) -> Facts {
        facts_in(manifest, paths, false)
    }

    fn facts_in(manifest: &str, paths: &[&str], directory: bool) -> Facts {
        let mut files: Vec<RawFile> = paths
            .iter()
            .map(|p| RawFile {
                path: format!("package/{p}"),
                data: Vec::new(),
                depth: 0,
            })
            .collect();
        files.push(RawFile {
            path: "package/package.json".into(),
            data: manifest.as_bytes().to_vec(),
            depth: 0,
        });
        let tree = Tree::new(&files);
        let mut facts = Facts::default();
        read(&tree, directory, &mut facts);
        facts
    }

    fn sorted(set: &HashSet<String>) -> Vec<&str> {
        let mut v: Vec<_> = set.iter().map(String::as_str).collect();
        v.sort();
        v
    }

    #[test]
    fn install_scripts_mark_the_files_they_run() {
        let manifest = r#"{"name": "x", "version": "1.0.0", "scripts": {
            "preinstall": "node ./scripts/pre",
            "postinstall": "sh install.sh && npm run build",
            "prebuild": "python3 tools/gen.py --out=dist",
            "build": "tsc",
            "test": "node test/run.js"
        }}"#;
        let paths =
            ["scripts/pre.js", "install.sh", "tools/gen.py", "test/run.js"];

        let facts = facts_of(manifest, &paths);

        assert_eq!(
            sorted(&facts.install),
            [
                "package/install.sh",
                "package/package.json",
                "package/scripts/pre.js",
                "package/tools/gen.py",
            ]
        );
        let identity = facts.identity.unwrap();
        assert_eq!(identity.name.as_deref(), Some("x"));
    }

    #[test]
    fn dependencies_from_git_or_urls_are_recorded() {
        let manifest = r#"{"name": "x", "dependencies": {
            "a": "^1.0.0", "b": "git+https://h.example/b.git",
            "c": "owner/c#main", "d": "npm:e@^2"
        }, "optionalDependencies": {"f": "https://h.example/f.tgz"},
        "devDependencies": {"g": "github:o/g"}}"#;

        let facts = facts_of(manifest, &[]);

        let found: Vec<_> = facts
            .metadata
            .direct_dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.source.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("b", "git+https://h.example/b.git"),
                ("c", "owner/c#main"),
                ("f", "https://h.example/f.tgz"),
            ]
        );
        let mut manifests = facts.metadata.direct_dependencies.iter();
        assert!(manifests.all(|d| d.manifest == "package/package.json"));
    }

    #[test]
    fn no_install_scripts_leave_package_json_alone() {
        let facts =
            facts_of(r#"{"scripts": {"test": "jest"}}"#, &["index.js"]);

        assert!(facts.install.is_empty());
        assert_eq!(sorted(&facts.import), ["package/index.js"]);
    }

    #[test]
    fn entry_points_come_from_main_and_exports() {
        let manifest = r#"{"main": "lib/main", "exports": {
            ".": {"import": "./esm/index.mjs", "require": "./lib/main.js"},
            "./util": "./lib/util.js"
        }}"#;
        let paths =
            ["lib/main.js", "esm/index.mjs", "lib/util.js", "index.js"];

        let facts = facts_of(manifest, &paths);

        assert_eq!(
            sorted(&facts.import),
            [
                "package/esm/index.mjs",
                "package/lib/main.js",
                "package/lib/util.js"
            ]
        );
    }

    #[test]
    fn prepare_runs_only_for_directories() {
        let manifest = r#"{"scripts": {"prepare": "bash build.sh"}}"#;

        let tarball = facts_in(manifest, &["build.sh"], false);
        let directory = facts_in(manifest, &["build.sh"], true);

        assert!(tarball.install.is_empty());
        assert!(tarball.metadata.install_hooks.is_empty());
        assert!(directory.install.contains("package/build.sh"));
        assert_eq!(directory.metadata.install_hooks, ["prepare"]);
    }

    #[test]
    fn recursive_runs_terminate() {
        let manifest = r#"{"scripts": {
            "install": "npm run a", "a": "npm run b", "b": "npm run a"
        }}"#;

        let facts = facts_of(manifest, &[]);

        assert_eq!(sorted(&facts.install), ["package/package.json"]);
    }
}
