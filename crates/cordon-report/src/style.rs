//! ANSI colours for the terminal report, and nothing more.
//!
//! We write the few SGR escape sequences we need ourselves rather than
//! depend on a styling crate. Whether to colour at all is the caller's
//! decision (see [`RenderOptions::color`](crate::RenderOptions::color));
//! a [`Painter`] made without colour writes text unchanged.

use std::fmt;

use crate::model::{Severity, Verdict};

/// What a piece of text is, which decides how it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// A severity label and its carets.
    Severity(Severity),
    /// A package's verdict; `None` for a package that could not be read.
    Verdict(Option<Verdict>),
    /// The `error` label of a package that could not be read.
    Error,
    /// Line numbers, bars and arrows around a snippet.
    Gutter,
    /// A finding's message.
    Emphasis,
    /// A character of a snippet shown as an escape, so that it cannot be
    /// mistaken for the same text written literally.
    Escape,
}

impl Style {
    /// The parameters of the SGR sequence that turns this style on.
    fn sgr(self) -> &'static str {
        match self {
            Style::Severity(Severity::Critical) => "1;91",
            Style::Severity(Severity::High) => "1;31",
            Style::Severity(Severity::Medium) => "1;33",
            Style::Severity(Severity::Low) => "1;36",
            Style::Severity(Severity::Info) => "1",
            Style::Verdict(Some(Verdict::Clean)) => "1;32",
            Style::Verdict(Some(Verdict::Suspicious)) => "1;33",
            Style::Verdict(Some(Verdict::Malicious)) => "1;31",
            Style::Verdict(None) => "1;35",
            Style::Error => "1;31",
            Style::Gutter => "1;34",
            Style::Emphasis => "1",
            Style::Escape => "7",
        }
    }
}

/// Applies styles, or not, as the report's options say.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Painter {
    color: bool,
}

impl Painter {
    /// A painter that colours when `color` is true.
    pub(crate) fn new(color: bool) -> Painter {
        Painter { color }
    }

    /// `text` in `style`, ready to be formatted.
    pub(crate) fn paint<T: fmt::Display>(
        self,
        style: Style,
        text: T,
    ) -> Painted<T> {
        Painted { style: self.color.then_some(style), text }
    }
}

/// Text with the style it is to be shown in.
pub(crate) struct Painted<T> {
    style: Option<Style>,
    text: T,
}

impl<T: fmt::Display> fmt::Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.style {
            Some(style) => {
                write!(f, "\x1b[{}m{}\x1b[0m", style.sgr(), self.text)
            }
            None => write!(f, "{}", self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_colour_text_is_unchanged() {
        let painted = Painter::new(false).paint(Style::Gutter, "12");
        assert_eq!(painted.to_string(), "12");
    }

    #[test]
    fn with_colour_text_is_wrapped_and_reset() {
        let style = Style::Verdict(Some(Verdict::Malicious));
        let painted = Painter::new(true).paint(style, "malicious");
        assert_eq!(painted.to_string(), "\x1b[1;31mmalicious\x1b[0m");
    }
}
