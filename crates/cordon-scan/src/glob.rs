//! Path globs that restrict a rule to some files of a package.
//!
//! A glob without `/` is matched against the file's name only
//! (`*.pth`, `package.json`); a glob with `/` against the whole path
//! inside the package (`src/**/build.rs`). `*` matches any run of
//! characters other than `/`, `**` any run including `/`, `?` one
//! character other than `/`; everything else matches itself. We compile
//! globs into anchored regexes, which keeps matching linear in the path.

use std::fmt;

use regex::Regex;

/// A compiled path glob.
#[derive(Clone)]
pub struct Glob {
    text: String,
    regex: Regex,
    name_only: bool,
}

impl Glob {
    /// Compiles `text`; fails, with the reason, on an empty glob.
    pub fn new(text: &str) -> Result<Glob, String> {
        if text.is_empty() {
            return Err("a path glob cannot be empty".to_string());
        }
        let regex = Regex::new(&to_regex(text)).map_err(|e| e.to_string())?;
        let name_only = !text.contains('/');
        Ok(Glob { text: text.to_string(), regex, name_only })
    }

    /// Whether `path` (a `/`-separated path in the package) matches.
    pub fn matches(&self, path: &str) -> bool {
        let subject = if self.name_only {
            path.rsplit('/').next().unwrap_or(path)
        } else {
            path
        };
        self.regex.is_match(subject)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.text)
    }
}

fn to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` also matches no directory at all.
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, path: &str) -> bool {
        Glob::new(glob).unwrap().matches(path)
    }

    #[test]
    fn globs_without_slash_match_the_file_name() {
        assert!(m("*.pth", "pkg-1.0/evil.pth"));
        assert!(m("package.json", "package/package.json"));
        assert!(!m("*.pth", "pkg/evil.pth.txt"));
        assert!(!m("package.json", "package/package.json5"));
    }

    #[test]
    fn globs_with_slash_match_the_whole_path() {
        assert!(m("src/**/build.rs", "src/build.rs"));
        assert!(m("src/**/build.rs", "src/a/b/build.rs"));
        assert!(!m("src/*/build.rs", "src/a/b/build.rs"));
        assert!(!m("src/?.rs", "src/ab.rs"));
        assert!(m("**/tests/**", "pkg/tests/x/y.py"));
    }

    #[test]
    fn regex_characters_match_themselves() {
        assert!(m("a+b(1).txt", "a+b(1).txt"));
        assert!(!m("a.b", "axb"));
    }

    #[test]
    fn empty_globs_are_refused() {
        assert!(Glob::new("").is_err());
    }
}
