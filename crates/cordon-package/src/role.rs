//! When a file's code runs: at install, at import, only when called, or
//! never in normal use (tests, docs, examples).
//!
//! Files the manifests name come first, so that a lifecycle script kept
//! under `test/` is still install-time code. Then fixed names below the
//! package's root (`setup.py`, `*.pth`, `extconf.rb`), then directory
//! and file name conventions. Paths are looked at below the root
//! directory of an sdist (`foo-1.0/`) or npm tarball (`package/`).
//!
//! Benchmarks (`benches/`, `benchmarks/`) count as tests: like tests,
//! they run only when a developer asks. Files of archives nested in the
//! package are data until something unpacks them: they get the test,
//! docs and example roles of their place, and otherwise
//! [`Role::Other`], never install or import.

use cordon_report::Role;

use crate::metadata::Facts;

/// Directory names that hold tests.
const TEST_DIRS: [&str; 9] = [
    "test",
    "tests",
    "testing",
    "__tests__",
    "__mocks__",
    "spec",
    "specs",
    "benches",
    "benchmarks",
];

/// Directory names that hold documentation.
const DOC_DIRS: [&str; 4] = ["doc", "docs", "documentation", "man"];

/// Directory names that hold examples.
const EXAMPLE_DIRS: [&str; 6] =
    ["example", "examples", "demo", "demos", "sample", "samples"];

/// Directory names that hold continuous-integration configuration,
/// wherever they are (vendored projects bring their own).
const CI_DIRS: [&str; 7] = [
    ".github",
    ".gitlab",
    ".circleci",
    ".azure-pipelines",
    ".buildkite",
    ".ci",
    "ci",
];

/// Top-level directory names that hold a project's release and
/// maintenance scripts. Deeper down, a directory of these names is as
/// likely to be part of the package's own code.
const TOOLING_DIRS: [&str; 3] = ["tools", "scripts", "maint_tools"];

/// Files of development tooling by name.
const TOOLING_NAMES: [&str; 14] = [
    "vagrantfile",
    "dockerfile",
    "containerfile",
    "jenkinsfile",
    "makefile",
    "gnumakefile",
    "justfile",
    "noxfile.py",
    "tox.ini",
    "azure-pipelines.yml",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".pre-commit-config.yaml",
];

/// File stems of documents without an extension, or with `.txt`.
const DOC_NAMES: [&str; 9] = [
    "readme",
    "changelog",
    "changes",
    "history",
    "license",
    "licence",
    "authors",
    "notice",
    "copying",
];

/// The role of the file at `path` (a full path in the package), found
/// `depth` archives deep.
pub(crate) fn role(path: &str, depth: u32, facts: &Facts) -> Role {
    let rel = path.strip_prefix(facts.metadata.root.as_str()).unwrap_or(path);
    // A wheel or gem has no project directory around its files: its top
    // level is the package's own code, never the project's tooling.
    let rooted = !facts.metadata.root.is_empty();
    let (dirs, name) = match rel.rsplit_once('/') {
        Some((dirs, name)) => (dirs, name),
        None => ("", rel),
    };
    if depth > 0 {
        return match by_convention(dirs, name, rooted) {
            Role::Import => Role::Other,
            role => role,
        };
    }
    if facts.install.contains(path) {
        return Role::Install;
    }
    let conventional = by_convention(dirs, name, rooted);
    if runs_at_install(dirs, name) && !is_inert(conventional) {
        return Role::Install;
    }
    if facts.import.contains(path) {
        return Role::Import;
    }
    conventional
}

/// Roles whose files no installer or importer runs, whatever their name:
/// a `.pth` file kept among a project's tests is a test fixture.
fn is_inert(role: Role) -> bool {
    matches!(role, Role::Test | Role::Docs | Role::Example | Role::Tooling)
}

/// Files that installers run by their name and place.
fn runs_at_install(dirs: &str, name: &str) -> bool {
    let extconf = name == "extconf.rb"
        && (dirs.is_empty() || dirs == "ext" || dirs.starts_with("ext/"));
    let root_script = dirs.is_empty() && name == "setup.py";
    root_script || extconf || name.ends_with(".pth")
}

/// The role directory and file naming conventions give.
pub(crate) fn by_convention(dirs: &str, name: &str, rooted: bool) -> Role {
    let lower = name.to_ascii_lowercase();
    let in_dir = |names: &[&str]| {
        dirs.split('/')
            .any(|d| names.contains(&d.to_ascii_lowercase().as_str()))
    };

    if in_dir(&TEST_DIRS) || is_test_dir(dirs) || is_test_file(&lower) {
        return Role::Test;
    }
    if in_dir(&DOC_DIRS) || is_doc_file(&lower) || is_metadata(dirs, &lower) {
        return Role::Docs;
    }
    if in_dir(&EXAMPLE_DIRS) {
        return Role::Example;
    }
    if is_tooling(dirs, &lower, rooted) {
        return Role::Tooling;
    }
    if name == "__init__.py" {
        return Role::Import;
    }
    Role::Other
}

/// Directories whose name has a word for tests in it: `manual tests`,
/// `unit_tests`, `integration-tests`, `test-data`.
fn is_test_dir(dirs: &str) -> bool {
    dirs.split('/').any(|dir| {
        let lower = dir.to_ascii_lowercase();
        let mut words = lower.split([' ', '_', '-', '.']);
        words.any(|w| matches!(w, "test" | "tests" | "testing"))
    })
}

/// Test files by name: `test_x.py`, `x_test.py`, `conftest.py`,
/// `x.test.js`, `x.spec.ts`, `x_spec.rb`, `x_test.go`.
fn is_test_file(lower: &str) -> bool {
    let (stem, extension) = lower.rsplit_once('.').unwrap_or((lower, ""));
    match extension {
        "py" => {
            stem.starts_with("test_")
                || stem.ends_with("_test")
                || stem == "conftest"
        }
        "rb" => stem.ends_with("_spec") || stem.ends_with("_test"),
        "go" => stem.ends_with("_test"),
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => {
            stem.ends_with(".test") || stem.ends_with(".spec")
        }
        _ => false,
    }
}

/// The description files of Python's metadata, whose text is the
/// package's README: `PKG-INFO` anywhere, and `METADATA` at the root or
/// in a `.dist-info` or `.egg-info` directory.
fn is_metadata(dirs: &str, lower: &str) -> bool {
    let in_info = dirs.is_empty()
        || dirs.ends_with(".dist-info")
        || dirs.ends_with(".egg-info");
    lower == "pkg-info" || (lower == "metadata" && in_info)
}

/// Development tooling: CI directories anywhere, tooling directories at
/// the top of a project directory, and build and CI files by name.
fn is_tooling(dirs: &str, lower: &str, rooted: bool) -> bool {
    let mut parts = dirs.split('/').map(str::to_ascii_lowercase);
    let top = dirs.split('/').next().unwrap_or("").to_ascii_lowercase();
    parts.any(|d| CI_DIRS.contains(&d.as_str()))
        || (rooted && TOOLING_DIRS.contains(&top.as_str()))
        || TOOLING_NAMES.contains(&lower)
}

/// Documents by name: Markdown and reStructuredText, and `README`,
/// `LICENSE` and the like as plain text.
fn is_doc_file(lower: &str) -> bool {
    let (stem, extension) = lower.split_once('.').unwrap_or((lower, ""));
    match extension {
        "md" | "markdown" | "rst" => true,
        "" | "txt" => DOC_NAMES.contains(&stem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(root: &str) -> Facts {
        let mut facts = Facts::default();
        facts.metadata.root = root.to_string();
        facts
    }

    #[test]
    fn conventions_see_through_the_root() {
        let facts = facts("foo-1.0/");
        let cases = [
            ("foo-1.0/setup.py", Role::Install),
            ("foo-1.0/sub/setup.py", Role::Other),
            ("foo-1.0/foo/__init__.py", Role::Import),
            ("foo-1.0/tests/__init__.py", Role::Test),
            ("foo-1.0/foo/test_core.py", Role::Test),
            ("foo-1.0/conftest.py", Role::Test),
            ("foo-1.0/docs/conf.py", Role::Docs),
            ("foo-1.0/README.rst", Role::Docs),
            ("foo-1.0/LICENSE", Role::Docs),
            ("foo-1.0/examples/run.py", Role::Example),
            ("foo-1.0/benchmarks/b.py", Role::Test),
            ("foo-1.0/foo/core.py", Role::Other),
            ("foo-1.0/foo/hook.pth", Role::Install),
            ("foo-1.0/ext/foo/extconf.rb", Role::Install),
            ("foo-1.0/src/a.spec.ts", Role::Test),
            ("foo-1.0/PKG-INFO", Role::Docs),
            ("foo-1.0/foo.egg-info/PKG-INFO", Role::Docs),
            ("foo-1.0/foo-1.0.dist-info/METADATA", Role::Docs),
            ("foo-1.0/foo/metadata", Role::Other),
            ("foo-1.0/.github/workflows/ci.yml", Role::Tooling),
            ("foo-1.0/tools/release.py", Role::Tooling),
            ("foo-1.0/Makefile", Role::Tooling),
            ("foo-1.0/scripts/__init__.py", Role::Tooling),
            ("foo-1.0/foo/tools/core.py", Role::Other),
            ("foo-1.0/m/manual tests/4 x/build.py", Role::Test),
            ("foo-1.0/unit_tests/a.py", Role::Test),
            ("foo-1.0/contest/a.py", Role::Other),
            ("foo-1.0/bootloader/Vagrantfile", Role::Tooling),
            ("foo-1.0/v/meson/ci/install.sh", Role::Tooling),
            ("foo-1.0/tests/m/ns-nspkg.pth", Role::Test),
            ("foo-1.0/sub/.github/workflows/x.yml", Role::Tooling),
        ];
        for (path, role) in cases {
            assert_eq!(super::role(path, 0, &facts), role, "{path}");
        }
    }

    #[test]
    fn nested_archives_hold_data() {
        let facts = facts("v-1.0/");
        let wheel = "v-1.0/embed/setuptools.whl";

        let pth =
            role(&format!("{wheel}/distutils-precedence.pth"), 1, &facts);
        let init = role(&format!("{wheel}/setuptools/__init__.py"), 1, &facts);
        let test = role("v-1.0/tests/data.zip/setup.py", 1, &facts);

        assert_eq!((pth, init, test), (Role::Other, Role::Other, Role::Test));
    }

    #[test]
    fn manifests_beat_conventions() {
        let mut facts = facts("package/");
        facts.install.insert("package/test/setup.js".into());
        facts.import.insert("package/examples/main.js".into());

        assert_eq!(role("package/test/setup.js", 0, &facts), Role::Install);
        assert_eq!(role("package/examples/main.js", 0, &facts), Role::Import);
        assert_eq!(role("package/test/other.js", 0, &facts), Role::Test);
    }
}
