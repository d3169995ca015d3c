//! The numbered source lines under a finding, with carets under the
//! match, in the manner of rustc's diagnostics.
//!
//! A snippet is code from the package, so each of its characters that
//! could act on the terminal is shown as an escape ([`crate::escape`]).
//! Tabs become four spaces, so that the caret lines up whatever the
//! terminal's tab stops. A line wider than [`MAX_WIDTH`] is cut to a
//! window around the match, with an ellipsis on each side that was cut:
//! a minified file shows one line of the report, not a screenful. At most
//! [`MAX_LINES`] lines are shown.
//!
//! Widths are counted in characters, so a wide character (most CJK text)
//! pushes the caret one column left of where it belongs.

use std::io::{self, Write};

use crate::escape::{escaped, needs_escape};
use crate::style::{Painter, Style};

/// The most columns of code shown for one line.
pub(crate) const MAX_WIDTH: usize = 100;

/// The most lines of a snippet shown.
pub(crate) const MAX_LINES: usize = 8;

/// How many columns of code a cut line keeps left of the match.
const LEFT_CONTEXT: usize = 32;

/// What a tab is shown as.
const TAB: &str = "    ";

/// A snippet and where in its file it starts.
pub(crate) struct Snippet<'a> {
    /// The source lines, the first being the one where the match starts.
    pub(crate) text: &'a str,
    /// The 1-based number of the first line.
    pub(crate) line: u32,
    /// The 1-based column, in characters, where the match starts.
    pub(crate) column: u32,
}

impl Snippet<'_> {
    /// The width of the line-number gutter: as many digits as the last
    /// line number shown.
    pub(crate) fn gutter(&self) -> usize {
        let shown = self.text.lines().take(MAX_LINES).count().max(1);
        digits(u64::from(self.line) + shown as u64 - 1)
    }

    /// Writes the lines, each numbered, with carets under the match in
    /// the first one, framed by the gutter's bar.
    pub(crate) fn write(
        &self,
        out: &mut dyn Write,
        paint: Painter,
        caret_style: Style,
    ) -> io::Result<()> {
        let gutter = self.gutter();
        let bar = paint.paint(Style::Gutter, "|");
        writeln!(out, "{:gutter$} {bar}", "")?;

        let mut lines = self.text.lines();
        for (i, source) in lines.by_ref().take(MAX_LINES).enumerate() {
            let number = u64::from(self.line) + i as u64;
            let number = format!("{number:>gutter$}");
            let number = paint.paint(Style::Gutter, number);
            let caret = if i == 0 { self.column } else { 1 };
            let view = View::new(source, caret.saturating_sub(1) as usize);

            write!(out, "{number} {bar}")?;
            view.write_code(out, paint)?;
            writeln!(out)?;
            if i == 0 {
                write!(out, "{:gutter$} {bar} ", "")?;
                view.write_caret(out, paint, caret_style)?;
                writeln!(out)?;
            }
        }

        let rest = lines.count();
        if rest > 0 {
            let noun = if rest == 1 { "line" } else { "lines" };
            writeln!(out, "{:gutter$} {bar} … {rest} more {noun}", "")?;
        }
        Ok(())
    }
}

/// One character of a source line as it will be shown.
#[derive(Clone, Copy)]
enum Cell {
    Plain(char),
    Tab,
    Escaped(char),
}

impl Cell {
    fn of(c: char) -> Cell {
        match c {
            '\t' => Cell::Tab,
            c if needs_escape(c) => Cell::Escaped(c),
            c => Cell::Plain(c),
        }
    }

    /// How many columns the cell takes on the terminal.
    fn width(self) -> usize {
        match self {
            Cell::Plain(_) => 1,
            Cell::Tab => TAB.len(),
            Cell::Escaped(c) => escaped(c).len(),
        }
    }

    /// Whether the cell belongs to an identifier, which the carets
    /// underline whole: the report does not know where a match ends.
    fn is_word(self) -> bool {
        matches!(self, Cell::Plain(c) if c.is_alphanumeric() || c == '_')
    }

    fn write(self, out: &mut dyn Write, paint: Painter) -> io::Result<()> {
        match self {
            Cell::Plain(c) => write!(out, "{c}"),
            Cell::Tab => out.write_all(TAB.as_bytes()),
            Cell::Escaped(c) => {
                write!(out, "{}", paint.paint(Style::Escape, escaped(c)))
            }
        }
    }
}

/// A source line cut to the window that is shown, and where the caret
/// goes in it.
struct View {
    cells: Vec<Cell>,
    /// The first cell shown.
    start: usize,
    /// One past the last cell shown.
    end: usize,
    /// Whether the line goes on after `end`.
    cut_end: bool,
    /// The cell the match starts at; may be one past the last cell.
    caret: usize,
}

impl View {
    fn new(source: &str, caret: usize) -> View {
        // Nothing right of the window is ever shown, so a huge minified
        // line is read only as far as the match plus a window's width.
        let keep = caret.saturating_add(2 * MAX_WIDTH);
        let cells: Vec<Cell> =
            source.chars().take(keep).map(Cell::of).collect();
        let cut = source.chars().nth(keep).is_some();
        let caret = caret.min(cells.len());

        let (start, end) = window(&cells, caret, cut);
        View { cut_end: cut || end < cells.len(), cells, start, end, caret }
    }

    fn write_code(
        &self,
        out: &mut dyn Write,
        paint: Painter,
    ) -> io::Result<()> {
        if self.cells.is_empty() {
            return Ok(());
        }
        out.write_all(b" ")?;
        if self.start > 0 {
            out.write_all("…".as_bytes())?;
        }
        for cell in &self.cells[self.start..self.end] {
            cell.write(out, paint)?;
        }
        if self.cut_end {
            out.write_all("…".as_bytes())?;
        }
        Ok(())
    }

    fn write_caret(
        &self,
        out: &mut dyn Write,
        paint: Painter,
        style: Style,
    ) -> io::Result<()> {
        let ellipsis = usize::from(self.start > 0);
        let pad = ellipsis + width(&self.cells[self.start..self.caret]);
        let carets = "^".repeat(self.caret_width());
        write!(out, "{:pad$}{}", "", paint.paint(style, carets))
    }

    /// How many columns the carets cover: the identifier the match starts
    /// with, or else the one character (or its escape) it starts at.
    fn caret_width(&self) -> usize {
        let Some(&first) = self.cells[..self.end].get(self.caret) else {
            return 1;
        };
        if !first.is_word() {
            return first.width();
        }
        let word = self.cells[self.caret..self.end]
            .iter()
            .take_while(|cell| cell.is_word());
        word.map(|cell| cell.width()).sum()
    }
}

/// The cells `(start, end)` to show of a line so that it fits in
/// [`MAX_WIDTH`] columns with the caret in view.
fn window(cells: &[Cell], caret: usize, cut: bool) -> (usize, usize) {
    if !cut && width(cells) <= MAX_WIDTH {
        return (0, cells.len());
    }

    let mut start = 0;
    if width(&cells[..caret]) > MAX_WIDTH / 2 {
        start = caret;
        let mut left = 0;
        while start > 0 && left + cells[start - 1].width() <= LEFT_CONTEXT {
            start -= 1;
            left += cells[start].width();
        }
    }

    // Leave a column for the ellipsis on each side.
    let budget = MAX_WIDTH - 2;
    let mut end = start;
    let mut used = 0;
    while end < cells.len() && used + cells[end].width() <= budget {
        used += cells[end].width();
        end += 1;
    }
    (start, end)
}

fn width(cells: &[Cell]) -> usize {
    cells.iter().map(|cell| cell.width()).sum()
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn render(text: &str, line: u32, column: u32) -> String {
        let snippet = Snippet { text, line, column };
        let mut out = Vec::new();
        let style = Style::Severity(Severity::High);
        snippet.write(&mut out, Painter::new(false), style).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn caret_underlines_the_identifier_at_the_column() {
        let shown = render("    exec(base64.b64decode(payload))", 12, 5);
        let expected = "   |
12 |     exec(base64.b64decode(payload))
   |     ^^^^
";
        assert_eq!(shown, expected);
    }

    #[test]
    fn every_line_is_numbered_and_the_gutter_fits_the_last() {
        let shown = render("a = 1\nb = 2\nc = 3\n", 9, 1);
        let expected = "   |
 9 | a = 1
   | ^
10 | b = 2
11 | c = 3
";
        assert_eq!(shown, expected);
    }

    #[test]
    fn lines_past_the_limit_are_counted_not_shown() {
        let text = "x\n".repeat(MAX_LINES + 3);
        let shown = render(&text, 1, 1);
        assert!(shown.ends_with("  | … 3 more lines\n"), "{shown}");
        assert_eq!(shown.lines().count(), MAX_LINES + 3);
    }

    #[test]
    fn tabs_expand_and_the_caret_follows() {
        let shown = render("\tevil()", 3, 2);
        assert_eq!(shown, "  |\n3 |     evil()\n  |     ^^^^\n");
    }

    #[test]
    fn hostile_characters_are_escaped_and_underlined_whole() {
        let shown = render("x = 1 \u{202e} \u{1b}[2J", 1, 7);
        assert_eq!(
            shown,
            "  |\n1 | x = 1 \\u{202e} \\u{1b}[2J\n  |       ^^^^^^^^\n"
        );
        assert!(!shown.contains('\u{202e}') && !shown.contains('\u{1b}'));
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_match() {
        let mut line = "a".repeat(5000);
        line.push_str("eval(atob(x))");
        line.push_str(&"b".repeat(5000));
        let shown = render(&line, 1, 5001);

        let code = shown.lines().nth(1).unwrap();
        let caret = shown.lines().nth(2).unwrap();
        assert!(code.starts_with("1 | …") && code.ends_with('…'), "{code}");
        assert!(code.chars().count() <= MAX_WIDTH + 4, "{code}");
        let at = caret.find('^').unwrap();
        assert_eq!(&code[at + 2..at + 2 + 4], "eval", "{shown}");
    }

    #[test]
    fn a_column_past_the_end_puts_the_caret_after_the_line() {
        assert_eq!(render("ab", 1, 40), "  |\n1 | ab\n  |   ^\n");
    }

    #[test]
    fn an_empty_first_line_still_gets_a_caret() {
        assert_eq!(render("\nfoo", 4, 1), "  |\n4 |\n  | ^\n5 | foo\n");
    }
}
