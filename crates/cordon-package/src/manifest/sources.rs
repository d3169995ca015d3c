//! Dependencies that do not come from a registry: a git repository, a
//! URL, a GitHub shorthand. The installer fetches them from wherever
//! they point, past any review of the registry's packages.

use crate::metadata::DirectDependency;

/// Prefixes of npm dependency specs that name a repository or a URL.
const NPM_REMOTE: [&str; 9] = [
    "git+",
    "git://",
    "git@",
    "http://",
    "https://",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
];

/// Whether an npm dependency spec fetches from outside the registry:
/// a URL, a git remote, or the `owner/repo` GitHub shorthand.
pub(crate) fn npm_is_remote(spec: &str) -> bool {
    let spec = spec.trim();
    if NPM_REMOTE.iter().any(|p| spec.starts_with(p)) {
        return true;
    }
    github_shorthand(spec)
}

/// `owner/repo` or `owner/repo#ref`: npm fetches it from GitHub.
fn github_shorthand(spec: &str) -> bool {
    let repo = spec.split_once('#').map_or(spec, |(repo, _)| repo);
    let Some((owner, name)) = repo.split_once('/') else { return false };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    !owner.starts_with('@')
        && !owner.starts_with('.')
        && word(owner)
        && word(name)
}

/// The name and URL of a Python requirement that is a direct reference
/// (`name @ https://...`, `name @ git+https://...`), or a bare
/// `git+...` URL.
pub(crate) fn python_direct(requirement: &str) -> Option<(String, String)> {
    let requirement = requirement.trim();
    if requirement.starts_with("git+") {
        return Some((String::new(), requirement.to_string()));
    }
    let (name, rest) = requirement.split_once('@')?;
    let url = rest.trim().split([';', ' ']).next().unwrap_or_default();
    let remote = ["git+", "http://", "https://", "file:", "ftp://"]
        .iter()
        .any(|p| url.starts_with(p));
    let name = name.split('[').next().unwrap_or_default().trim();
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (remote && plain).then(|| (name.to_string(), url.to_string()))
}

/// The direct references among the string literals of `setup.py`:
/// `install_requires` entries such as `"x @ https://..."` and
/// `dependency_links` URLs. The file is code, so this reads its quoted
/// strings rather than evaluating it.
pub(crate) fn setup_py(text: &str, manifest: &str) -> Vec<DirectDependency> {
    let links = text.contains("dependency_links");
    quoted(text)
        .filter_map(|literal| {
            let direct = python_direct(literal);
            let link = links
                && (literal.starts_with("http://")
                    || literal.starts_with("https://"))
                && literal.contains("#egg=");
            match (direct, link) {
                (Some((name, url)), _) => Some((name, url)),
                (None, true) => Some((egg_name(literal), literal.into())),
                (None, false) => None,
            }
        })
        .map(|(name, source)| DirectDependency {
            name,
            source,
            manifest: manifest.to_string(),
        })
        .collect()
}

/// The `#egg=NAME` of a dependency link.
fn egg_name(url: &str) -> String {
    let egg = url.split_once("#egg=").map_or("", |(_, egg)| egg);
    egg.split(['&', '-']).next().unwrap_or_default().to_string()
}

/// The contents of the one-line quoted strings of Python text, roughly:
/// enough to find requirement strings, not a tokenizer.
fn quoted(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|line| {
        let mut out = Vec::new();
        let mut rest = line;
        while let Some(start) = rest.find(['"', '\'']) {
            let quote = rest.as_bytes()[start] as char;
            let after = &rest[start + 1..];
            let Some(end) = after.find(quote) else { break };
            out.push(&after[..end]);
            rest = &after[end + 1..];
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_specs_from_outside_the_registry() {
        for spec in [
            "git+https://github.com/a/b.git",
            "git://host/x.git",
            "https://host/x.tgz",
            "http://198.51.100.7/x.tgz",
            "github:owner/repo",
            "owner/repo#main",
        ] {
            assert!(npm_is_remote(spec), "{spec}");
        }
    }

    #[test]
    fn npm_registry_specs_are_not_remote() {
        for spec in [
            "^1.2.3",
            "~0.4",
            "*",
            "latest",
            ">=1 <2",
            "npm:other@^1",
            "file:../local",
            "workspace:*",
            "1.0.0 - 2.0.0",
        ] {
            assert!(!npm_is_remote(spec), "{spec}");
        }
    }

    #[test]
    fn python_direct_references() {
        assert_eq!(
            python_direct("foo @ https://h.example/foo-1.0.tar.gz"),
            Some(("foo".into(), "https://h.example/foo-1.0.tar.gz".into()))
        );
        assert_eq!(
            python_direct("bar[x]@ git+https://h.example/bar.git ; os_name"),
            Some(("bar".into(), "git+https://h.example/bar.git".into()))
        );
        assert_eq!(python_direct("requests>=2"), None);
        assert_eq!(python_direct("Author <me@example.com>"), None);
    }

    #[test]
    fn setup_py_strings_with_urls() {
        let text = "setup(\n  author_email='me@example.com',\n  \
            install_requires=['requests>=2', \"evil @ https://h.example/e.tgz\"],\n  \
            dependency_links=['https://h.example/x.tar.gz#egg=x-1.0'],\n)\n";
        let found = setup_py(text, "p/setup.py");
        let names: Vec<_> = found.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["evil", "x"]);
        assert_eq!(found[0].manifest, "p/setup.py");
    }

    #[test]
    fn setup_py_without_direct_references() {
        let text = "setup(url='https://example.com/project', \
            install_requires=['requests', 'git-url-parse'])\n";
        assert!(setup_py(text, "setup.py").is_empty());
    }
}
