//! Makes untrusted text safe to print on a terminal.
//!
//! Nearly everything in a scan report came out of a package, and a package
//! may have been written by an attacker: its paths, its name and version,
//! the snippets of its code, and the error messages that quote them.
//! Printed raw, a control character can move the cursor, rewrite lines
//! already shown, retitle the window or worse; a bidirectional override
//! makes code read differently from what it does ("Trojan Source"); an
//! invisible character hides what is really there. So the terminal report
//! replaces every such character with a visible escape such as `\u{202e}`
//! before it reaches the terminal, and cuts single-line fields short.
//!
//! JSON and SARIF need none of this: they carry text as data, escaped by
//! their own syntax.

/// Whether `c` must not reach a terminal as it is.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi(c) || is_invisible(c)
}

/// The characters that change the direction in which text is shown.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that show as nothing, or as something else, on most
/// terminals; malicious packages have used each of these to hide code or
/// data in plain sight.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200d}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206a}'..='\u{206f}'
            | '\u{3164}'
            | '\u{e000}'..='\u{f8ff}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
            | '\u{e0100}'..='\u{e01ef}'
            | '\u{f0000}'..='\u{10ffff}'
    )
}

/// The visible form of a character that needs escaping, as Rust writes
/// it: `\u{1b}`, `\u{202e}`.
pub(crate) fn escaped(c: char) -> String {
    format!("\\u{{{:x}}}", u32::from(c))
}

/// `text` made safe to print on one line: line breaks and tabs become
/// `\n`, `\r` and `\t`, other dangerous characters `\u{..}`, and text
/// longer than `max_chars` characters is cut with an ellipsis.
pub(crate) fn inline(text: &str, max_chars: usize) -> String {
    let mut safe = String::with_capacity(text.len().min(max_chars * 4));

    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            safe.push('…');
            break;
        }
        match c {
            '\n' => safe.push_str("\\n"),
            '\r' => safe.push_str("\\r"),
            '\t' => safe.push_str("\\t"),
            c if needs_escape(c) => safe.push_str(&escaped(c)),
            c => safe.push(c),
        }
    }

    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "exec(base64.b64decode(payload)) # café, 日本";
        assert_eq!(inline(text, 100), text);
    }

    #[test]
    fn terminal_controls_become_visible() {
        let text = "a\u{1b}]0;owned\u{7}b\u{9b}c\u{7f}";
        assert_eq!(
            inline(text, 100),
            "a\\u{1b}]0;owned\\u{7}b\\u{9b}c\\u{7f}"
        );
    }

    #[test]
    fn bidi_and_invisible_characters_become_visible() {
        let text = "x\u{202e}y\u{2066}z\u{200b}w\u{feff}v\u{e0041}";
        assert_eq!(
            inline(text, 100),
            "x\\u{202e}y\\u{2066}z\\u{200b}w\\u{feff}v\\u{e0041}"
        );
    }

    #[test]
    fn line_breaks_cannot_start_a_new_line() {
        assert_eq!(inline("a\nb\r\tc", 100), "a\\nb\\r\\tc");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(inline("abcdef", 3), "abc…");
        assert_eq!(inline("abc", 3), "abc");
    }
}
