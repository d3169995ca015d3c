//! Registry target specs: `npm:NAME@VERSION`, `pypi:NAME==VERSION`,
//! `crates:NAME@VERSION`; without a version, the latest.

use std::fmt;

use cordon_report::Ecosystem;

use crate::Error;

/// A package in a registry, with an exact version or none (the latest).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spec {
    /// The registry.
    pub ecosystem: Ecosystem,
    /// The package's name as given.
    pub name: String,
    /// The exact version; `None` for the latest.
    pub version: Option<String>,
}

impl Spec {
    /// Whether `text` is meant as a registry spec: it starts with
    /// `npm:`, `pypi:` or `crates:`.
    pub fn looks_like_spec(text: &str) -> bool {
        ["npm:", "pypi:", "crates:"].iter().any(|p| text.starts_with(p))
    }

    /// Parses a spec.
    pub fn parse(text: &str) -> Result<Spec, Error> {
        let invalid = |reason: &str| Error::Spec {
            spec: text.to_string(),
            reason: reason.to_string(),
        };
        let (ecosystem, rest) = split_prefix(text)
            .ok_or_else(|| invalid("expected npm:, pypi: or crates:"))?;
        let (name, version) = match ecosystem {
            Ecosystem::Pypi => split_version(rest, "=="),
            _ => split_npm_like(rest),
        };
        if ecosystem == Ecosystem::Pypi && name.contains('@') {
            return Err(invalid("write a PyPI version as pypi:NAME==VERSION"));
        }
        check_name(ecosystem, name).map_err(invalid)?;
        if let Some(version) = version {
            check_version(version).map_err(invalid)?;
        }
        Ok(Spec {
            ecosystem,
            name: name.to_string(),
            version: version.map(str::to_string),
        })
    }

    /// A spec for an exact version.
    pub fn exact(ecosystem: Ecosystem, name: &str, version: &str) -> Spec {
        Spec {
            ecosystem,
            name: name.to_string(),
            version: Some(version.to_string()),
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, separator) = match self.ecosystem {
            Ecosystem::Npm => ("npm", "@"),
            Ecosystem::Pypi => ("pypi", "=="),
            Ecosystem::Crates => ("crates", "@"),
            Ecosystem::Rubygems => ("gem", "@"),
        };
        write!(f, "{prefix}:{}", self.name)?;
        match &self.version {
            Some(version) => write!(f, "{separator}{version}"),
            None => Ok(()),
        }
    }
}

fn split_prefix(text: &str) -> Option<(Ecosystem, &str)> {
    if let Some(rest) = text.strip_prefix("npm:") {
        return Some((Ecosystem::Npm, rest));
    }
    if let Some(rest) = text.strip_prefix("pypi:") {
        return Some((Ecosystem::Pypi, rest));
    }
    text.strip_prefix("crates:").map(|rest| (Ecosystem::Crates, rest))
}

/// `name@version`, where a scoped npm name starts with its own `@`.
fn split_npm_like(rest: &str) -> (&str, Option<&str>) {
    let search_from = usize::from(rest.starts_with('@'));
    match rest[search_from..].find('@') {
        Some(at) => {
            let at = at + search_from;
            (&rest[..at], Some(&rest[at + 1..]))
        }
        None => (rest, None),
    }
}

fn split_version<'a>(
    rest: &'a str,
    separator: &str,
) -> (&'a str, Option<&'a str>) {
    match rest.split_once(separator) {
        Some((name, version)) => (name, Some(version)),
        None => (rest, None),
    }
}

/// Names are restricted to the characters their registries allow, so
/// that they can go into a URL path as they are.
fn check_name(ecosystem: Ecosystem, name: &str) -> Result<(), &'static str> {
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
            })
    };
    let ok = match (ecosystem, name.strip_prefix('@')) {
        (Ecosystem::Npm, Some(scoped)) => scoped
            .split_once('/')
            .is_some_and(|(scope, base)| plain(scope) && plain(base)),
        _ => plain(name),
    };
    if ok { Ok(()) } else { Err("invalid package name") }
}

fn check_version(version: &str) -> Result<(), &'static str> {
    let ok = !version.is_empty()
        && version.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '.' | '-' | '+' | '_' | '!')
        });
    if ok { Ok(()) } else { Err("invalid version") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_registries() {
        let spec = Spec::parse("npm:@scope/name@1.2.3").unwrap();
        assert_eq!(spec.name, "@scope/name");
        assert_eq!(spec.version.as_deref(), Some("1.2.3"));
        let spec = Spec::parse("pypi:six==1.16.0").unwrap();
        assert_eq!(
            (spec.ecosystem, spec.name.as_str()),
            (Ecosystem::Pypi, "six")
        );
        let spec = Spec::parse("crates:itoa").unwrap();
        assert_eq!(spec.version, None);
        assert_eq!(spec.to_string(), "crates:itoa");
        assert_eq!(Spec::parse("npm:@s/n").unwrap().to_string(), "npm:@s/n");
    }

    #[test]
    fn refuses_names_that_would_change_the_url() {
        assert!(Spec::parse("npm:../x@1").is_err());
        assert!(Spec::parse("npm:a/b@1").is_err());
        assert!(Spec::parse("pypi:a==1/../2").is_err());
        assert!(Spec::parse("crates:@1").is_err());
        assert!(Spec::parse("gem:x").is_err());
        let err = Spec::parse("pypi:six@1.16.0").unwrap_err().to_string();
        assert!(err.contains("pypi:NAME==VERSION"), "{err}");
    }
}
