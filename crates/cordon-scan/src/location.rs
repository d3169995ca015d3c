//! From byte offsets to what a person reads: 1-based lines, columns in
//! characters, and a snippet of the lines that matched.
//!
//! Files are bytes and need not be UTF-8. Columns count UTF-8 characters
//! (any byte that does not continue a UTF-8 sequence starts one), and
//! snippets are decoded lossily. A line of a minified file can be a
//! megabyte long, so the snippet shows a window around the match rather
//! than the start of the line.

use std::cell::OnceCell;

/// The most lines a snippet shows.
pub(crate) const SNIPPET_LINES: usize = 3;

/// The most characters of one snippet line.
pub(crate) const SNIPPET_LINE_CHARS: usize = 240;

/// How many characters before the match a clipped first line keeps.
const LEAD_CHARS: usize = 60;

/// Line starts of one file, computed on first use.
pub(crate) struct TextIndex<'a> {
    data: &'a [u8],
    line_starts: OnceCell<Vec<usize>>,
}

impl<'a> TextIndex<'a> {
    /// An index over `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        TextIndex { data, line_starts: OnceCell::new() }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let newlines =
                self.data.iter().enumerate().filter(|(_, b)| **b == b'\n');
            std::iter::once(0).chain(newlines.map(|(i, _)| i + 1)).collect()
        })
    }

    /// The 0-based line holding byte `offset`.
    fn line_index(&self, offset: usize) -> usize {
        let starts = self.line_starts();
        starts.partition_point(|&start| start <= offset).saturating_sub(1)
    }

    /// The bytes of 0-based line `index`, without its line ending.
    fn line(&self, index: usize) -> Option<(usize, &'a [u8])> {
        let starts = self.line_starts();
        let start = *starts.get(index)?;
        let end =
            starts.get(index + 1).map_or(self.data.len(), |&next| next - 1);
        let bytes = &self.data[start..end.max(start)];
        Some((start, bytes.strip_suffix(b"\r").unwrap_or(bytes)))
    }

    /// The 1-based line and character column of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.data.len());
        let index = self.line_index(offset);
        let start = self.line_starts()[index];
        let column = char_count(&self.data[start..offset]) + 1;
        (to_u32(index + 1), to_u32(column))
    }

    /// The lines from the one holding `start` to the one holding `end`,
    /// at most [`SNIPPET_LINES`] of them, each clipped; and the 1-based
    /// character column of `start` in the first of them.
    pub(crate) fn snippet(&self, start: usize, end: usize) -> (String, u32) {
        let first = self.line_index(start.min(self.data.len()));
        let last_byte = end.max(start + 1) - 1;
        let last = self.line_index(last_byte.min(self.data.len())).max(first);
        let last = last.min(first + SNIPPET_LINES - 1);

        let mut lines = Vec::new();
        let mut column = 1;
        for index in first..=last {
            let Some((line_start, bytes)) = self.line(index) else { break };
            let focus = if index == first { start - line_start } else { 0 };
            let (text, at) = clip_line(bytes, focus.min(bytes.len()));
            if index == first {
                column = at;
            }
            lines.push(text);
        }
        (lines.join("\n"), to_u32(column))
    }
}

/// One line for a snippet: the whole line when short, otherwise a
/// window that keeps the byte `focus` in view, marked with `…`; and the
/// 1-based character column of `focus` in what is shown.
fn clip_line(bytes: &[u8], focus: usize) -> (String, usize) {
    let text = String::from_utf8_lossy(bytes);
    let total = text.chars().count();
    let focus_chars = char_count(&bytes[..focus]);
    if total <= SNIPPET_LINE_CHARS {
        return (text.into_owned(), focus_chars + 1);
    }

    let skip = focus_chars.saturating_sub(LEAD_CHARS);
    let mut out = String::new();
    if skip > 0 {
        out.push('…');
    }
    let budget = SNIPPET_LINE_CHARS - usize::from(skip > 0) - 1;
    out.extend(text.chars().skip(skip).take(budget));
    if skip + budget < total {
        out.push('…');
    }
    (out, focus_chars - skip + 1 + usize::from(skip > 0))
}

/// The number of characters in `bytes`, counting each byte that does not
/// continue a UTF-8 sequence as the start of one.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\néé exec\n".as_bytes();
        let index = TextIndex::new(text);
        assert_eq!(index.position(0), (1, 1));
        let exec = text.windows(4).position(|w| w == b"exec").unwrap();
        assert_eq!(index.position(exec), (2, 4));
        assert_eq!(index.position(text.len()), (3, 1));
    }

    #[test]
    fn snippets_span_the_match_up_to_three_lines() {
        let text = b"one\r\ntwo\nthree\nfour\nfive\n";
        let index = TextIndex::new(text);
        assert_eq!(index.snippet(0, 3), ("one".to_string(), 1));
        assert_eq!(index.snippet(6, 12), ("two\nthree".to_string(), 2));
        let all = index.snippet(0, text.len()).0;
        assert_eq!(all, "one\ntwo\nthree");
    }

    #[test]
    fn long_lines_are_clipped_around_the_match() {
        let mut text = "x".repeat(10_000);
        text.push_str("eval(atob(p))");
        text.push_str(&"y".repeat(10_000));
        let index = TextIndex::new(text.as_bytes());
        let (snippet, column) = index.snippet(10_000, 10_013);
        assert!(snippet.contains("eval(atob(p))"), "{snippet}");
        assert!(snippet.starts_with('…') && snippet.ends_with('…'));
        assert_eq!(snippet.chars().count(), SNIPPET_LINE_CHARS);
        let at: String =
            snippet.chars().skip(column as usize - 1).take(4).collect();
        assert_eq!(at, "eval");
    }

    #[test]
    fn invalid_utf8_is_shown_lossily() {
        let text = b"a\xff\xfeb exec";
        let index = TextIndex::new(text);
        assert_eq!(index.position(5), (1, 6));
        assert!(index.snippet(5, 9).0.contains("exec"));
    }
}
