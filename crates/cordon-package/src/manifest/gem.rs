//! Ruby gems: the gemspec YAML from `metadata.gz`, read by hand for the
//! few keys cordon needs.

use cordon_report::Ecosystem;

use super::Tree;
use crate::metadata::{Facts, Identity};

/// Reads name, version and native extensions from a gemspec.
pub(super) fn read(yaml: &str, tree: &Tree<'_>, facts: &mut Facts) {
    let spec = parse(yaml);
    for extension in &spec.extensions {
        facts.install.extend(tree.resolve(extension));
    }
    if let Some(name) = &spec.name {
        // `require "name"` loads `lib/name.rb`.
        facts.import.extend(tree.resolve(&format!("lib/{name}.rb")));
    }
    facts.metadata.extensions = spec.extensions;
    facts.metadata.dependencies.extend(spec.dependencies);
    facts.manifest("metadata.gz".to_string());
    facts.identify(Identity {
        ecosystem: Ecosystem::Rubygems,
        name: spec.name,
        version: spec.version,
        rank: 0,
    });
}

/// The keys of a gemspec cordon reads.
#[derive(Debug, Default, PartialEq)]
struct Spec {
    name: Option<String>,
    version: Option<String>,
    extensions: Vec<String>,
    dependencies: Vec<String>,
}

/// Parses the top-level `name`, `version` (a scalar, or the `version:`
/// inside a `Gem::Version` object), `extensions` and the names in
/// `dependencies`.
fn parse(yaml: &str) -> Spec {
    let mut spec = Spec::default();
    let mut section = "";
    for line in yaml.lines() {
        let indented = line.starts_with([' ', '-']);
        let Some((key, value)) = line.split_once(':') else {
            if section == "extensions" {
                spec.extensions.extend(list_item(line));
            }
            continue;
        };
        let value = scalar(value);
        if !indented {
            section = key.trim();
            match section {
                "name" => spec.name = value,
                "version" => spec.version = value,
                _ => {}
            }
            continue;
        }
        match (section, key.trim().trim_start_matches("- ")) {
            ("version", "version") if spec.version.is_none() => {
                spec.version = value
            }
            ("dependencies", "name") if key.starts_with("  name") => {
                spec.dependencies.extend(value)
            }
            ("extensions", _) => spec.extensions.extend(list_item(line)),
            _ => {}
        }
    }
    spec
}

/// The value of a `- item` line.
fn list_item(line: &str) -> Option<String> {
    scalar(line.trim_start().strip_prefix('-')?)
}

/// A plain or quoted YAML scalar; `None` for empty values and tags.
fn scalar(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.starts_with('!') || value == "[]" {
        return None;
    }
    let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
    Some(unquoted.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "--- !ruby/object:Gem::Specification
name: nokogiri
version: !ruby/object:Gem::Version
  version: 1.16.0
platform: ruby
dependencies:
- !ruby/object:Gem::Dependency
  name: racc
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - \"~>\"
      - !ruby/object:Gem::Version
        version: '1.4'
extensions:
- ext/nokogiri/extconf.rb
executables: []
";

    #[test]
    fn reads_the_keys_cordon_needs() {
        let spec = parse(SPEC);

        assert_eq!(spec.name.as_deref(), Some("nokogiri"));
        assert_eq!(spec.version.as_deref(), Some("1.16.0"));
        assert_eq!(spec.extensions, ["ext/nokogiri/extconf.rb"]);
        assert_eq!(spec.dependencies, ["racc"]);
    }

    #[test]
    fn scalar_versions_and_empty_lists() {
        let spec = parse("name: 'x'\nversion: \"2.0\"\nextensions: []\n");

        assert_eq!(spec.name.as_deref(), Some("x"));
        assert_eq!(spec.version.as_deref(), Some("2.0"));
        assert!(spec.extensions.is_empty());
    }
}
