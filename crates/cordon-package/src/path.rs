//! Entry names made safe: `/`-separated, relative, inside the package,
//! valid UTF-8. What had to change is reported, never silently fixed.

use std::borrow::Cow;

use crate::anomaly::AnomalyKind;

/// An entry name after normalisation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EntryName {
    /// The safe path; empty when nothing of the name was left.
    pub path: String,
    /// What was wrong with the raw name, with a detail each.
    pub issues: Vec<(AnomalyKind, String)>,
}

/// Normalises a raw entry name.
///
/// `..` components are resolved against the components before them and
/// dropped where they would leave the package; an absolute name (`/x`,
/// `C:\x`) loses its root. With `backslashes`, `\` separates components
/// too, as zip tools on Windows write it.
pub(crate) fn normalise(raw: &[u8], backslashes: bool) -> EntryName {
    let mut issues = Vec::new();
    let text = String::from_utf8_lossy(raw);
    if let Cow::Owned(_) = text {
        issues.push((AnomalyKind::NonUtf8Name, quoted(&text)));
    }

    let text = match backslashes {
        true => Cow::Owned(text.replace('\\', "/")),
        false => text,
    };
    let (relative, absolute) = strip_root(&text);
    if absolute {
        issues.push((AnomalyKind::AbsolutePath, quoted(&text)));
    }

    let (parts, traversal) = resolve(relative);
    if let Some(escaped) = traversal {
        let detail = match escaped {
            true => format!("{} points outside the package", quoted(&text)),
            false => format!("{} contains `..`", quoted(&text)),
        };
        issues.push((AnomalyKind::PathTraversal, detail));
    }
    EntryName { path: parts.join("/"), issues }
}

/// Removes a leading `/` or Windows drive; says whether there was one.
fn strip_root(text: &str) -> (&str, bool) {
    let bytes = text.as_bytes();
    let drive =
        bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let rest = if drive { &text[2..] } else { text };
    let trimmed = rest.trim_start_matches('/');
    (trimmed, drive || trimmed.len() != rest.len())
}

/// Resolves `.` and `..`; the second value is `None` without `..`, and
/// says whether a `..` tried to leave the package.
fn resolve(relative: &str) -> (Vec<&str>, Option<bool>) {
    let mut parts: Vec<&str> = Vec::new();
    let mut traversal = None;
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                let escaped = parts.pop().is_none();
                traversal = Some(traversal.unwrap_or(false) || escaped);
            }
            _ => parts.push(part),
        }
    }
    (parts, traversal)
}

/// A name in backquotes, with control characters escaped.
pub(crate) fn quoted(text: &str) -> String {
    format!("`{}`", text.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(name: &EntryName) -> Vec<AnomalyKind> {
        name.issues.iter().map(|(kind, _)| *kind).collect()
    }

    #[test]
    fn plain_names_pass_untouched() {
        let name = normalise(b"pkg-1.0/src/pkg/__init__.py", false);

        assert_eq!(name.path, "pkg-1.0/src/pkg/__init__.py");
        assert!(name.issues.is_empty());
    }

    #[test]
    fn dot_and_empty_components_vanish_quietly() {
        let name = normalise(b"./a//b/./c", false);

        assert_eq!(name.path, "a/b/c");
        assert!(name.issues.is_empty());
    }

    #[test]
    fn escaping_parent_components_are_dropped_and_flagged() {
        let name = normalise(b"../../etc/x", false);

        assert_eq!(name.path, "etc/x");
        assert_eq!(kinds(&name), [AnomalyKind::PathTraversal]);
        assert!(name.issues[0].1.contains("outside"));
    }

    #[test]
    fn inner_parent_components_are_resolved_and_flagged() {
        let name = normalise(b"a/b/../c", false);

        assert_eq!(name.path, "a/c");
        assert_eq!(kinds(&name), [AnomalyKind::PathTraversal]);
    }

    #[test]
    fn absolute_names_lose_their_root() {
        let unix = normalise(b"/abs/path", false);
        let windows = normalise(b"C:\\Windows\\x.dll", true);

        assert_eq!(unix.path, "abs/path");
        assert_eq!(kinds(&unix), [AnomalyKind::AbsolutePath]);
        assert_eq!(windows.path, "Windows/x.dll");
        assert_eq!(kinds(&windows), [AnomalyKind::AbsolutePath]);
    }

    #[test]
    fn backslashes_separate_only_when_asked() {
        assert_eq!(normalise(b"a\\b", false).path, "a\\b");
        assert_eq!(normalise(b"a\\..\\..\\b", true).path, "b");
    }

    #[test]
    fn non_utf8_names_are_lossy_and_flagged() {
        let name = normalise(b"caf\xe9.py", false);

        assert_eq!(name.path, "caf\u{fffd}.py");
        assert_eq!(kinds(&name), [AnomalyKind::NonUtf8Name]);
    }

    #[test]
    fn names_of_only_parents_become_empty() {
        let name = normalise(b"/../..", false);

        assert_eq!(name.path, "");
        assert_eq!(
            kinds(&name),
            [AnomalyKind::AbsolutePath, AnomalyKind::PathTraversal]
        );
    }
}
