//! A one-line progress bar on stderr for scans of many packages.
//!
//! Drawn only when stderr is a terminal, and redrawn at most ten times
//! a second. Whatever else is written while it shows first clears the
//! line ([`Progress::clear`]), so that the bar never runs into a report
//! line or a message.

use std::io::{self, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// How wide the bar itself is, in cells.
const WIDTH: usize = 30;

/// A progress bar, or nothing when it is not wanted.
pub struct Progress {
    enabled: bool,
    total: usize,
    done: usize,
    errors: usize,
    flagged: usize,
    shown: bool,
    last: Option<Instant>,
}

impl Progress {
    /// A bar for `total` packages, drawn only when `enabled`.
    pub fn new(total: usize, enabled: bool) -> Progress {
        Progress {
            enabled,
            total,
            done: 0,
            errors: 0,
            flagged: 0,
            shown: false,
            last: None,
        }
    }

    /// Counts one finished package, `flagged` when it is suspicious or
    /// worse, `failed` when it could not be scanned.
    pub fn tick(&mut self, flagged: bool, failed: bool) {
        self.done += 1;
        self.flagged += usize::from(flagged);
        self.errors += usize::from(failed);
        let due = self.last.is_none_or(|last| last.elapsed() >= REDRAW);
        if self.enabled && (due || self.done == self.total) {
            self.draw();
        }
    }

    /// Removes the bar from the screen before something else is
    /// written; the next tick draws it again.
    pub fn clear(&mut self) {
        if self.shown {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }

    fn draw(&mut self) {
        let line = render(self.done, self.total, self.flagged, self.errors);
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
        self.last = Some(Instant::now());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `[=========>          ] 120/300 packages, 2 flagged, 1 error`.
pub fn render(
    done: usize,
    total: usize,
    flagged: usize,
    errors: usize,
) -> String {
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH).min(WIDTH);
    let mut bar = "=".repeat(filled);
    if filled < WIDTH {
        bar.push('>');
        bar.push_str(&" ".repeat(WIDTH - filled - 1));
    }
    let mut line = format!("[{bar}] {done}/{total} packages");
    if flagged > 0 {
        line.push_str(&format!(", {flagged} flagged"));
    }
    if errors > 0 {
        let s = if errors == 1 { "" } else { "s" };
        line.push_str(&format!(", {errors} error{s}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_count() {
        let start = render(0, 10, 0, 0);
        assert!(start.starts_with("[>    "), "{start}");
        assert!(start.ends_with("] 0/10 packages"), "{start}");
        let half = render(5, 10, 1, 2);
        assert_eq!(half.matches('=').count(), WIDTH / 2, "{half}");
        assert!(
            half.ends_with("5/10 packages, 1 flagged, 2 errors"),
            "{half}"
        );
        let full = render(10, 10, 0, 1);
        assert_eq!(full.matches('=').count(), WIDTH, "{full}");
        assert!(!full.contains('>') && full.ends_with("1 error"), "{full}");
    }
}
