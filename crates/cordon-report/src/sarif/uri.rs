//! URI references for packages and the files inside them.
//!
//! A dashboard lists results by file and merges results at the same
//! location, so each file of each package needs a URI of its own: two
//! packages that both have a `setup.py` must not collapse into one alert.
//! We name a file by its target followed by its path inside the package:
//! `vendor/evil/setup.py` for the directory `vendor/evil`, and
//! `dist/evil-1.0.tar.gz/setup.py` for an archive. When the target is a
//! directory inside the repository being scanned, that is the file's own
//! path in the repository, and the dashboard can show the code. An
//! absolute target becomes a `file://` URI.
//!
//! Every byte that may not stand in a URI path is percent-encoded, and so
//! is `:`, so that a registry spec such as `npm:left-pad@1.3.0` is not
//! read as a URI scheme. Names from a hostile package thus always make a
//! valid URI reference.

use std::fmt::Write;

/// A URI reference for the target itself.
pub(crate) fn target_uri(target: &str) -> String {
    let target = target.strip_prefix("./").unwrap_or(target);
    if target.starts_with('/') {
        format!("file://{}", encode(target))
    } else {
        encode(target)
    }
}

/// A URI reference for `path` inside the package at `target`.
pub(crate) fn file_uri(target: &str, path: &str) -> String {
    let base = target_uri(target);
    let path = encode(path.trim_start_matches('/'));
    if base.is_empty() {
        path
    } else {
        format!("{}/{path}", base.trim_end_matches('/'))
    }
}

/// `text` with every byte outside RFC 3986's path characters, and `:`,
/// percent-encoded.
fn encode(text: &str) -> String {
    let mut uri = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if is_path_byte(byte) {
            uri.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

fn is_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_target_gives_the_file_path_in_the_repository() {
        assert_eq!(
            file_uri("vendor/evil", "setup.py"),
            "vendor/evil/setup.py"
        );
        assert_eq!(file_uri("./vendor/evil/", "a/b.py"), "vendor/evil/a/b.py");
        assert_eq!(file_uri(".", "setup.py"), "./setup.py");
    }

    #[test]
    fn an_archive_target_is_a_directory_in_the_uri() {
        assert_eq!(
            file_uri("dist/evil-1.0.tar.gz", "evil-1.0/setup.py"),
            "dist/evil-1.0.tar.gz/evil-1.0/setup.py"
        );
    }

    #[test]
    fn an_absolute_target_is_a_file_uri() {
        assert_eq!(file_uri("/tmp/p", "x.js"), "file:///tmp/p/x.js");
        assert_eq!(target_uri("/tmp/p"), "file:///tmp/p");
    }

    #[test]
    fn a_registry_spec_is_not_read_as_a_scheme() {
        assert_eq!(target_uri("npm:left-pad@1.3.0"), "npm%3Aleft-pad@1.3.0");
        assert_eq!(target_uri("pypi:a==1"), "pypi%3Aa==1");
    }

    #[test]
    fn hostile_names_are_percent_encoded() {
        assert_eq!(
            file_uri("a b", "x#?%\u{202e}.py"),
            "a%20b/x%23%3F%25%E2%80%AE.py"
        );
    }
}
