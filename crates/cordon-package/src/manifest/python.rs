//! Python: `PKG-INFO` and wheel `METADATA` for identity, `pyproject.toml`
//! for the build backend and build hooks that run at install time.

use cordon_report::Ecosystem;

use super::{Tree, sources, text};
use crate::metadata::{DirectDependency, Facts, Identity};

/// Reads the core metadata nearest the root, then `pyproject.toml`.
pub(super) fn read(tree: &Tree<'_>, facts: &mut Facts) {
    if let Some(path) = core_metadata(tree) {
        let data = tree.files.get(path).copied().unwrap_or_default();
        let identity = headers(&text(data), path, facts);
        facts.identify(identity);
        facts.manifest(path.to_string());
    }
    if let Some(data) = tree.get("pyproject.toml") {
        facts.manifest(tree.full("pyproject.toml"));
        if let Some(identity) = pyproject(&text(data), tree, facts) {
            facts.identify(identity);
        }
    }
    if let Some(data) = tree.get("setup.py") {
        let manifest = tree.full("setup.py");
        let direct = sources::setup_py(&text(data), &manifest);
        facts.metadata.direct_dependencies.extend(direct);
        facts.manifest(manifest);
        facts.identify(Identity {
            ecosystem: Ecosystem::Pypi,
            name: None,
            version: None,
            rank: 4,
        });
    }
}

/// The `PKG-INFO` or `.dist-info/METADATA` nearest the root.
fn core_metadata<'a>(tree: &Tree<'a>) -> Option<&'a str> {
    let is_metadata = |path: &&str| {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        name == "PKG-INFO"
            || (name == "METADATA" && dir.ends_with(".dist-info"))
    };
    tree.paths()
        .filter(is_metadata)
        .min_by_key(|path| (path.matches('/').count(), *path))
}

/// Parses the email-style headers of core metadata.
fn headers(text: &str, path: &str, facts: &mut Facts) -> Identity {
    let mut identity = Identity {
        ecosystem: Ecosystem::Pypi,
        name: None,
        version: None,
        rank: 1,
    };
    for line in text.lines().take_while(|line| !line.trim().is_empty()) {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim().to_string();
        match key.to_ascii_lowercase().as_str() {
            "name" => identity.name = Some(value),
            "version" => identity.version = Some(value),
            "requires-dist" => {
                facts.metadata.dependencies.push(requirement(&value));
                direct(&value, path, facts);
            }
            _ => {}
        }
    }
    identity
}

/// Records `requirement` when it is a direct reference to a URL.
fn direct(requirement: &str, manifest: &str, facts: &mut Facts) {
    let Some((name, source)) = sources::python_direct(requirement) else {
        return;
    };
    let manifest = manifest.to_string();
    let dependency = DirectDependency { name, source, manifest };
    if !facts.metadata.direct_dependencies.contains(&dependency) {
        facts.metadata.direct_dependencies.push(dependency);
    }
}

/// The project name of a requirement such as `foo[bar]>=1; extra`.
fn requirement(spec: &str) -> String {
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(spec.len());
    spec[..end].to_string()
}

/// Reads `pyproject.toml`: the identity in `[project]`, and the files
/// that build backends and hooks run.
fn pyproject(
    source: &str,
    tree: &Tree<'_>,
    facts: &mut Facts,
) -> Option<Identity> {
    let table: toml::Table = toml::from_str(source).ok()?;
    build_backend(&table, tree, facts);
    build_hooks(&table, tree, facts);

    let project = table.get("project")?.as_table()?;
    let requirements = project.get("dependencies").and_then(|v| v.as_array());
    let manifest = tree.full("pyproject.toml");
    for requirement in requirements.into_iter().flatten() {
        if let Some(requirement) = requirement.as_str() {
            direct(requirement, &manifest, facts);
        }
    }
    let string = |key: &str| project.get(key)?.as_str().map(str::to_string);
    Some(Identity {
        ecosystem: Ecosystem::Pypi,
        name: string("name"),
        version: string("version"),
        rank: 4,
    })
}

/// An in-tree build backend (`backend-path`) runs at install time.
fn build_backend(table: &toml::Table, tree: &Tree<'_>, facts: &mut Facts) {
    let Some(system) = table.get("build-system").and_then(|v| v.as_table())
    else {
        return;
    };
    let Some(backend) = system.get("build-backend").and_then(|v| v.as_str())
    else {
        return;
    };
    facts.metadata.build_backend = Some(backend.to_string());

    let module =
        backend.split(':').next().unwrap_or_default().replace('.', "/");
    let dirs = system.get("backend-path").and_then(|v| v.as_array());
    for dir in dirs.into_iter().flatten().filter_map(|v| v.as_str()) {
        for file in [format!("{module}.py"), format!("{module}/__init__.py")] {
            let candidate = format!("{dir}/{file}");
            facts.install.extend(tree.resolve(&candidate));
        }
    }
}

/// Build hooks of poetry, PDM and hatch name scripts run at build time.
fn build_hooks(table: &toml::Table, tree: &Tree<'_>, facts: &mut Facts) {
    let tool = table.get("tool");
    let at = |keys: &[&str]| {
        keys.iter().try_fold(tool?, |value, key| value.get(key))
    };
    let poetry = at(&["poetry", "build"]);
    let scripts = [
        poetry.and_then(|v| v.as_str()),
        poetry.and_then(|v| v.get("script")).and_then(|v| v.as_str()),
        at(&["pdm", "build", "setup-script"]).and_then(|v| v.as_str()),
    ];
    for script in scripts.into_iter().flatten() {
        facts.install.extend(tree.resolve(script));
    }
    if let Some(hatch) = at(&["hatch"]) {
        hatch_hooks(hatch, tree, facts);
    }
}

/// Every `custom` hook under `[tool.hatch]`, by default `hatch_build.py`.
fn hatch_hooks(value: &toml::Value, tree: &Tree<'_>, facts: &mut Facts) {
    let Some(table) = value.as_table() else { return };
    for (key, value) in table {
        if key == "custom" && value.is_table() {
            let path = value.get("path").and_then(|v| v.as_str());
            facts
                .install
                .extend(tree.resolve(path.unwrap_or("hatch_build.py")));
        }
        hatch_hooks(value, tree, facts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::RawFile;

    fn tree_of(files: &[(&str, &str)]) -> Vec<RawFile> {
        files
            .iter()
            .map(|(path, data)| RawFile {
                path: path.to_string(),
                data: data.as_bytes().to_vec(),
                depth: 0,
            })
            .collect()
    }

    #[test]
    fn pkg_info_nearest_the_root_names_the_package() {
        let files = tree_of(&[
            ("foo-1.0/foo.egg-info/PKG-INFO", "Name: wrong\nVersion: 0\n"),
            (
                "foo-1.0/PKG-INFO",
                "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nRequires-Dist: bar[x]>=2\n\nName: body\n",
            ),
        ]);
        let tree = Tree::new(&files);
        let mut facts = Facts::default();

        read(&tree, &mut facts);

        let identity = facts.identity.unwrap();
        assert_eq!(identity.name.as_deref(), Some("foo"));
        assert_eq!(identity.version.as_deref(), Some("1.0"));
        assert_eq!(facts.metadata.dependencies, ["bar"]);
    }

    #[test]
    fn direct_references_are_recorded_with_their_manifest() {
        let pkg_info = "Name: foo\nVersion: 1.0\n\
            Requires-Dist: bar @ https://h.example/bar.tgz\n\
            Requires-Dist: baz>=1\n\n";
        let pyproject = "[project]\nname = \"foo\"\n\
            dependencies = [\"qux @ git+https://h.example/qux\", \"ok\"]\n";
        let files = tree_of(&[
            ("p/PKG-INFO", pkg_info),
            ("p/pyproject.toml", pyproject),
            ("p/setup.py", "setup(install_requires=['baz>=1'])\n"),
        ]);
        let tree = Tree::new(&files);
        let mut facts = Facts::default();

        read(&tree, &mut facts);

        let found: Vec<_> = facts
            .metadata
            .direct_dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.manifest.as_str()))
            .collect();
        assert_eq!(
            found,
            [("bar", "p/PKG-INFO"), ("qux", "p/pyproject.toml")]
        );
    }

    #[test]
    fn in_tree_backends_and_hooks_run_at_install() {
        let pyproject = r#"
            [build-system]
            build-backend = "backend.main:build"
            backend-path = ["_custom"]
            [tool.hatch.build.targets.wheel.hooks.custom]
            [tool.pdm.build]
            setup-script = "pdm_build.py"
        "#;
        let files = tree_of(&[
            ("p/pyproject.toml", pyproject),
            ("p/_custom/backend/main.py", ""),
            ("p/hatch_build.py", ""),
            ("p/pdm_build.py", ""),
        ]);
        let tree = Tree::new(&files);
        let mut facts = Facts::default();

        read(&tree, &mut facts);

        let mut install: Vec<_> =
            facts.install.iter().map(String::as_str).collect();
        install.sort();
        assert_eq!(
            install,
            [
                "p/_custom/backend/main.py",
                "p/hatch_build.py",
                "p/pdm_build.py"
            ]
        );
        assert_eq!(
            facts.metadata.build_backend.as_deref(),
            Some("backend.main:build")
        );
    }
}
