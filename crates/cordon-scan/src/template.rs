//! Message templates: a rule's `message` with `{name}` placeholders
//! filled from what the matcher captured.
//!
//! Regex and literal rules offer `{match}`, the matched text; query rules
//! offer every capture of their query by name; anomaly rules offer
//! `{detail}`. A `{` that does not open a `{name}` placeholder is kept
//! as written. Captured text is shown on one line and clipped, so that
//! a message stays a sentence.

/// The longest captured text shown in a message, in characters.
const MAX_CAPTURE_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// A parsed message template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; every placeholder must be one of `names`.
    pub(crate) fn new(text: &str, names: &[&str]) -> Result<Template, String> {
        let parts = split(text);
        for part in &parts {
            if let Part::Placeholder(name) = part
                && !names.contains(&name.as_str())
            {
                return Err(format!(
                    "the message uses `{{{name}}}`, but the rule offers only {}",
                    list(names)
                ));
            }
        }
        Ok(Template { parts })
    }

    /// Parses `text` without checking its placeholders: for rules whose
    /// captures are known only once their query is compiled. A
    /// placeholder nothing fills stays empty.
    pub(crate) fn unchecked(text: &str) -> Template {
        Template { parts: split(text) }
    }

    /// Fills the placeholders with `value(name)`, clipped to one line.
    pub(crate) fn render<'a>(
        &self,
        value: impl Fn(&str) -> Option<&'a [u8]>,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(name) => {
                    out.push_str(&clip(value(name).unwrap_or_default()));
                }
            }
        }
        out
    }
}

fn split(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| &after[..c]);
        match name {
            Some(name) if is_name(name) => {
                literal.push_str(&rest[..open]);
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Placeholder(name.to_string()));
                rest = &after[name.len() + 1..];
            }
            _ => {
                literal.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    parts
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
        })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        return "no placeholders".to_string();
    }
    let quoted: Vec<String> =
        names.iter().map(|n| format!("`{{{n}}}`")).collect();
    quoted.join(", ")
}

/// Captured bytes as one line of at most [`MAX_CAPTURE_CHARS`]
/// characters.
pub(crate) fn clip(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let one_line: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX_CAPTURE_CHARS {
        return one_line;
    }
    let mut clipped: String =
        one_line.chars().take(MAX_CAPTURE_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_from_captures() {
        let t =
            Template::new("calls {fn} on {match}", &["fn", "match"]).unwrap();
        let out = t.render(|name| match name {
            "fn" => Some(b"exec".as_slice()),
            _ => Some(b"b64decode(\n  x)".as_slice()),
        });
        assert_eq!(out, "calls exec on b64decode( x)");
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let err = Template::new("calls {fun}", &["fn"]).unwrap_err();
        assert!(err.contains("{fun}") && err.contains("{fn}"), "{err}");
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let t = Template::new("a {not a name} and {", &[]).unwrap();
        assert_eq!(t.parts.len(), 1);
        assert_eq!(t.render(|_| None), "a {not a name} and {");
    }

    #[test]
    fn long_captures_are_clipped() {
        let long = "x".repeat(500);
        let out = clip(long.as_bytes());
        assert_eq!(out.chars().count(), MAX_CAPTURE_CHARS);
        assert!(out.ends_with('…'));
    }
}
