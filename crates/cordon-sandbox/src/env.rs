//! The command's environment: everything but what looks like a
//! credential.
//!
//! A variable is removed when its name looks like it holds a secret
//! (`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*_KEY`, `AWS_*`, ...), unless
//! the caller passes it by name. The names removed are reported; their
//! values never are.

use std::ffi::OsString;

/// Parts of a name that mark a credential wherever they appear.
const CONTAINS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "_AUTH",
    "_KEY_",
    "COOKIE",
    "SESSION_ID",
];

/// Prefixes of names that belong to cloud credentials.
const PREFIXES: &[&str] = &["AWS_", "AZURE_", "GOOGLE_APPLICATION_"];

/// Whole names that are credentials or reach one.
const NAMES: &[&str] = &["SSH_AUTH_SOCK", "GPG_AGENT_INFO", "NETRC"];

/// Whether a variable named `name` looks like it holds a credential.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CONTAINS.iter().any(|part| upper.contains(part))
        || PREFIXES.iter().any(|prefix| upper.starts_with(prefix))
        || NAMES.contains(&upper.as_str())
        || upper.ends_with("_KEY")
        || upper == "KEY"
}

/// The environment split in what the command gets and the names of
/// what it does not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scrubbed {
    /// The variables passed to the command, in their original order.
    pub kept: Vec<(OsString, OsString)>,
    /// Names of the variables removed, sorted.
    pub removed: Vec<String>,
}

/// Removes the variables that look like credentials from `vars`, except
/// those named in `pass`.
pub fn scrub(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    pass: &[String],
) -> Scrubbed {
    let mut scrubbed = Scrubbed::default();
    for (name, value) in vars {
        let text = name.to_string_lossy();
        if looks_secret(&text) && !pass.iter().any(|p| *p == text) {
            scrubbed.removed.push(text.into_owned());
        } else {
            scrubbed.kept.push((name, value));
        }
    }
    scrubbed.removed.sort();
    scrubbed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> Vec<(OsString, OsString)> {
        names.iter().map(|n| (n.into(), "value".into())).collect()
    }

    #[test]
    fn credentials_are_removed_by_name() {
        let all = vars(&[
            "PATH",
            "NPM_TOKEN",
            "GITHUB_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "OPENAI_API_KEY",
            "DB_PASSWORD",
            "MY_SECRET",
            "SSH_AUTH_SOCK",
            "NPM_CONFIG__AUTH",
            "STRIPE_KEY",
            "SIGNING_KEY_FILE",
            "HOME",
            "TERM",
            "KEYBOARD",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ]);
        let scrubbed = scrub(all, &[]);
        let kept: Vec<_> = scrubbed.kept.iter().map(|(n, _)| n).collect();
        assert_eq!(kept, ["PATH", "HOME", "TERM", "KEYBOARD"]);
        assert_eq!(scrubbed.removed.len(), 11);
        assert!(scrubbed.removed.contains(&"NPM_TOKEN".to_owned()));
    }

    #[test]
    fn passed_names_are_kept() {
        let pass = ["NPM_TOKEN".to_owned()];
        let scrubbed = scrub(vars(&["NPM_TOKEN", "GH_TOKEN"]), &pass);
        assert_eq!(scrubbed.kept.len(), 1);
        assert_eq!(scrubbed.removed, ["GH_TOKEN"]);
    }

    #[test]
    fn lowercase_names_are_matched_too() {
        assert!(looks_secret("npm_token"));
        assert!(!looks_secret("LANG"));
    }
}
