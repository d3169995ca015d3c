//! Names of popular packages per ecosystem, shipped with cordon, and the
//! typos that turn one into another package's name.
//!
//! The lists are `rules/popular/{npm,pypi,crates}.txt`, compiled in; each
//! file's header says where its names come from. Nothing is fetched at
//! scan time. A name is a likely typosquat when it is not itself on the
//! list and one of these edits turns it into a name that is:
//!
//! - swapping `-`, `_` and `.` (npm only: PyPI and crates.io treat them
//!   as one name already);
//! - adding or dropping a `python-`, `py`, `js` or `node-` prefix or
//!   suffix;
//! - reading the digits `0` and `1` as the letters `o` and `l`;
//! - one insertion, deletion, substitution or swap of neighbours
//!   (Damerau-Levenshtein distance 1), for names of five characters or
//!   more.

use std::collections::HashSet;
use std::sync::OnceLock;

use cordon_report::Ecosystem;

/// The shortest name the one-edit check applies to: shorter names are
/// one edit from too many others.
const MIN_EDIT_LENGTH: usize = 5;

/// The shortest part a prefix or suffix may leave.
const MIN_AFFIX_REST: usize = 4;

/// Prefixes and suffixes that squatters add to or drop from a name.
const AFFIXES: [(&str, bool); 10] = [
    ("python-", true),
    ("python3-", true),
    ("py-", true),
    ("py", true),
    ("node-", true),
    ("-python", false),
    ("-py", false),
    ("-js", false),
    ("js", false),
    (".js", false),
];

/// The characters names are made of, for the one-edit check.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_.";

/// A popular name that a package's name looks like a typo of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookalike {
    /// The popular name, as the list spells it.
    pub target: String,
    /// How the two differ, in a few words.
    pub how: &'static str,
}

/// Whether `name` is on the popular list of `ecosystem`.
pub fn is_popular(ecosystem: Ecosystem, name: &str) -> bool {
    list(ecosystem)
        .is_some_and(|set| set.contains(&normalise(ecosystem, name)))
}

/// The popular name that `name` is one typo away from, when `name` is
/// not itself popular.
pub fn lookalike(ecosystem: Ecosystem, name: &str) -> Option<Lookalike> {
    let set = list(ecosystem)?;
    let name = normalise(ecosystem, name);
    if name.is_empty() || set.contains(&name) {
        return None;
    }
    let found = |target: String, how| {
        (target != name && set.contains(&target))
            .then_some(Lookalike { target, how })
    };
    let separators = || {
        (ecosystem == Ecosystem::Npm)
            .then(|| separator_variants(&name))
            .into_iter()
            .flatten()
            .find_map(|v| found(v, "swaps `-`, `_` or `.`"))
    };
    let affixes = || {
        affix_variants(&name)
            .into_iter()
            .find_map(|v| found(v, "adds or drops a prefix or suffix"))
    };
    let homoglyphs = || found(homoglyph(&name), "writes a letter as a digit");
    let edits = || {
        one_edit(&name)
            .into_iter()
            .filter(|v| v.len() >= MIN_EDIT_LENGTH)
            .find_map(|v| found(v, "is one typo away"))
    };
    separators()
        .or_else(affixes)
        .or_else(homoglyphs)
        .or_else(|| (name.len() >= MIN_EDIT_LENGTH).then(edits).flatten())
}

/// The name as its registry compares names: lowercase, and for PyPI
/// and crates.io with `-`, `_` and `.` runs as one `-`.
pub fn normalise(ecosystem: Ecosystem, name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match ecosystem {
        Ecosystem::Npm | Ecosystem::Rubygems => lower,
        Ecosystem::Pypi => collapse(&lower, "-_."),
        Ecosystem::Crates => collapse(&lower, "-_"),
    }
}

fn collapse(name: &str, separators: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if separators.contains(c) { '-' } else { c };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

fn list(ecosystem: Ecosystem) -> Option<&'static HashSet<String>> {
    static NPM: OnceLock<HashSet<String>> = OnceLock::new();
    static PYPI: OnceLock<HashSet<String>> = OnceLock::new();
    static CRATES: OnceLock<HashSet<String>> = OnceLock::new();
    let (cell, text) = match ecosystem {
        Ecosystem::Npm => {
            (&NPM, include_str!("../../../rules/popular/npm.txt"))
        }
        Ecosystem::Pypi => {
            (&PYPI, include_str!("../../../rules/popular/pypi.txt"))
        }
        Ecosystem::Crates => {
            (&CRATES, include_str!("../../../rules/popular/crates.txt"))
        }
        Ecosystem::Rubygems => return None,
    };
    Some(cell.get_or_init(|| read_list(ecosystem, text)))
}

/// The names of a list file, normalised, without comments and blanks.
fn read_list(ecosystem: Ecosystem, text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| normalise(ecosystem, line))
        .collect()
}

/// The name with each kind of separator replaced by each other kind,
/// or dropped.
fn separator_variants(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for from in ['-', '_', '.'] {
        if !name.contains(from) {
            continue;
        }
        for to in ["-", "_", ".", ""] {
            out.push(name.replace(from, to));
        }
    }
    out
}

/// The name with a known prefix or suffix dropped, or added.
fn affix_variants(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (affix, prefix) in AFFIXES {
        let stripped = match prefix {
            true => name.strip_prefix(affix),
            false => name.strip_suffix(affix),
        };
        if let Some(rest) = stripped.filter(|r| r.len() >= MIN_AFFIX_REST) {
            out.push(rest.to_string());
        }
        if name.len() >= MIN_AFFIX_REST {
            out.push(match prefix {
                true => format!("{affix}{name}"),
                false => format!("{name}{affix}"),
            });
        }
    }
    out
}

/// The name with `0` read as `o` and `1` as `l`.
fn homoglyph(name: &str) -> String {
    name.replace('0', "o").replace('1', "l")
}

/// Every name one insertion, deletion, substitution or swap of
/// neighbours away from `name`.
fn one_edit(name: &str) -> Vec<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let mut push = |v: Vec<u8>| {
        if let Ok(text) = String::from_utf8(v) {
            out.push(text);
        }
    };
    for i in 0..=bytes.len() {
        for &c in ALPHABET {
            push([&bytes[..i], &[c], &bytes[i..]].concat());
        }
        if i == bytes.len() {
            break;
        }
        push([&bytes[..i], &bytes[i + 1..]].concat());
        for &c in ALPHABET.iter().filter(|&&c| c != bytes[i]) {
            push([&bytes[..i], &[c], &bytes[i + 1..]].concat());
        }
        if i + 1 < bytes.len() && bytes[i] != bytes[i + 1] {
            let mut swapped = bytes.to_vec();
            swapped.swap(i, i + 1);
            push(swapped);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ecosystem: Ecosystem, name: &str) -> Option<String> {
        lookalike(ecosystem, name).map(|l| l.target)
    }

    #[test]
    fn every_list_holds_well_known_names() {
        assert!(is_popular(Ecosystem::Pypi, "requests"));
        assert!(is_popular(Ecosystem::Pypi, "Python_Dateutil"));
        assert!(is_popular(Ecosystem::Npm, "lodash"));
        assert!(is_popular(Ecosystem::Crates, "serde_json"));
        assert!(!is_popular(Ecosystem::Rubygems, "rails"));
        for ecosystem in [Ecosystem::Npm, Ecosystem::Pypi] {
            assert!(list(ecosystem).unwrap().len() >= 4000);
        }
    }

    #[test]
    fn one_edit_from_a_popular_name() {
        let pypi = Ecosystem::Pypi;
        assert_eq!(target(pypi, "reqeusts").as_deref(), Some("requests"));
        assert_eq!(target(pypi, "requestss").as_deref(), Some("requests"));
        assert_eq!(target(pypi, "numpyy").as_deref(), Some("numpy"));
        assert_eq!(target(pypi, "matplotlip").as_deref(), Some("matplotlib"));
        assert_eq!(
            target(Ecosystem::Crates, "serde_jsno").as_deref(),
            Some("serde-json")
        );
    }

    #[test]
    fn prefixes_separators_and_digits() {
        let npm = Ecosystem::Npm;
        assert_eq!(target(npm, "lodash.js").as_deref(), Some("lodash"));
        assert_eq!(target(npm, "cross_env").as_deref(), Some("cross-env"));
        let pypi = Ecosystem::Pypi;
        assert_eq!(
            target(pypi, "python-requests").as_deref(),
            Some("requests")
        );
        assert_eq!(target(pypi, "c0l0rama").as_deref(), Some("colorama"));
    }

    #[test]
    fn popular_and_unrelated_names_are_not_lookalikes() {
        let pypi = Ecosystem::Pypi;
        // Popular themselves, though one edit from another popular name.
        assert_eq!(target(pypi, "pytest"), None);
        assert_eq!(target(pypi, "urllib3"), None);
        assert_eq!(target(pypi, "python_dateutil"), None);
        assert_eq!(target(Ecosystem::Npm, "debug"), None);
        // Not close to anything, or too short for the one-edit check.
        assert_eq!(target(pypi, "cordon-sandbox-kit"), None);
        assert_eq!(target(pypi, "nmpy"), None);
        assert_eq!(target(Ecosystem::Rubygems, "railz"), None);
    }

    #[test]
    fn names_compare_as_their_registry_compares_them() {
        assert_eq!(normalise(Ecosystem::Pypi, "Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(normalise(Ecosystem::Crates, "serde_json"), "serde-json");
        assert_eq!(normalise(Ecosystem::Npm, "@Types/Node"), "@types/node");
    }
}
