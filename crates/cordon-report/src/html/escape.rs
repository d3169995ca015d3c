//! Makes untrusted text safe to place in an HTML page.
//!
//! Everything a report shows came from a package or from the command a
//! sandbox ran, and either may have been written by an attacker. Every
//! string goes through [`push`] before it reaches the page: the five
//! characters that mean something to HTML become entities, so text can
//! never open an element, close one or leave an attribute value; and
//! the characters that the terminal report also escapes (controls,
//! bidirectional overrides, invisible characters) are shown as a marked
//! `\u{..}`, so that a snippet reads as what it does.

use std::fmt::Write as _;

use crate::escape::needs_escape;

/// How much of a line break to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lines {
    /// Line breaks and tabs are kept, for `<pre>` blocks.
    Keep,
    /// Everything stays on one line: breaks become a visible `\n`.
    One,
}

/// Appends `text` to `out`, escaped for element content or a quoted
/// attribute value.
pub(crate) fn push(out: &mut String, text: &str, lines: Lines) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' if lines == Lines::Keep => out.push(c),
            '\n' => marked(out, "\\n"),
            '\t' => marked(out, "\\t"),
            '\r' => marked(out, "\\r"),
            c if needs_escape(c) => {
                marked(out, &format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

/// `text` escaped, on one line.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push(&mut out, text, Lines::One);
    out
}

/// A visible stand-in for a character that must not be shown as is.
fn marked(out: &mut String, visible: &str) {
    let _ = write!(out, "<span class=\"esc\">{visible}</span>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_text() {
        let hostile = "</script><img src=x onerror=alert(1)>";
        assert_eq!(
            one_line(hostile),
            "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(one_line("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
    }

    #[test]
    fn trojan_source_characters_are_shown_marked() {
        let text = "x\u{202e}y\u{200b}\u{1b}";
        assert_eq!(
            one_line(text),
            "x<span class=\"esc\">\\u{202e}</span>y\
             <span class=\"esc\">\\u{200b}</span>\
             <span class=\"esc\">\\u{1b}</span>"
        );
    }

    #[test]
    fn blocks_keep_their_lines_but_one_line_fields_do_not() {
        let mut block = String::new();
        push(&mut block, "a\n\tb\r", Lines::Keep);
        assert_eq!(block, "a\n\tb<span class=\"esc\">\\r</span>");
        assert_eq!(one_line("a\nb"), "a<span class=\"esc\">\\n</span>b");
    }
}
