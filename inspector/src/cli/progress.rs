//! A progress line on stderr while `inspector pcap` reads a large file.
//!
//! One redrawn line (`\r`) needs no crate: the reader counts bytes, the line
//! is redrawn at most ten times a second, and anything else written to
//! stderr (warnings) first clears it so the two never share a line.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Files smaller than this are read too fast for a progress line to help.
pub const MIN_SIZE_FOR_PROGRESS: u64 = 16 << 20;

const REDRAW_EVERY: Duration = Duration::from_millis(100);
const BAR_WIDTH: usize = 30;

/// The state shared by the reader that advances it and the writer that
/// clears it.
pub struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
    visible: bool,
}

/// Shared between threads: with `--threads` the capture is read (and the
/// line drawn) on a thread of its own, while warnings are written on the
/// calling thread.
pub type SharedProgress = Arc<Mutex<Progress>>;

/// The progress, even if a thread panicked holding it (a progress line is
/// no reason to fail twice).
fn lock(progress: &SharedProgress) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Progress {
    pub fn new(total: u64) -> SharedProgress {
        Arc::new(Mutex::new(Progress { total, done: 0, started: Instant::now(), last_draw: None, visible: false }))
    }

    fn line(&self) -> String {
        let fraction = if self.total == 0 { 1.0 } else { (self.done as f64 / self.total as f64).min(1.0) };
        let filled = (fraction * BAR_WIDTH as f64) as usize;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "\r[{}{}] {:>3.0}%  {} / {} MiB  {:.0} MiB/s\x1b[K",
            "#".repeat(filled),
            " ".repeat(BAR_WIDTH - filled),
            fraction * 100.0,
            self.done >> 20,
            self.total >> 20,
            self.done as f64 / secs / (1 << 20) as f64
        )
    }

    fn advance(&mut self, n: usize, term: &mut dyn Write) {
        self.done += n as u64;
        let now = Instant::now();
        if self.last_draw.is_none_or(|t| now.duration_since(t) >= REDRAW_EVERY) {
            self.last_draw = Some(now);
            self.visible = true;
            let _ = term.write_all(self.line().as_bytes());
            let _ = term.flush();
        }
    }

    fn clear(&mut self, term: &mut dyn Write) {
        if self.visible {
            self.visible = false;
            let _ = term.write_all(b"\r\x1b[K");
            let _ = term.flush();
        }
    }

    /// Remove the line for good (at the end of the run).
    pub fn finish(progress: &SharedProgress) {
        lock(progress).clear(&mut io::stderr());
    }
}

/// A reader that advances the progress line as it reads.
pub struct ProgressReader<R> {
    inner: R,
    progress: SharedProgress,
}

impl<R> ProgressReader<R> {
    pub fn new(inner: R, progress: SharedProgress) -> Self {
        ProgressReader { inner, progress }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        lock(&self.progress).advance(n, &mut io::stderr());
        Ok(n)
    }
}

/// A writer (stderr) that clears the progress line before each write.
pub struct ClearingWriter<'a> {
    inner: &'a mut dyn Write,
    progress: SharedProgress,
}

impl<'a> ClearingWriter<'a> {
    pub fn new(inner: &'a mut dyn Write, progress: SharedProgress) -> Self {
        ClearingWriter { inner, progress }
    }
}

impl Write for ClearingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Held while writing, so that the reading thread cannot draw the
        // line again between the clearing and the text.
        let mut progress = lock(&self.progress);
        progress.clear(self.inner);
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_the_fraction_and_clearing_erases_it() {
        let progress = Progress::new(100 << 20);
        let mut term = Vec::new();
        lock(&progress).advance(50 << 20, &mut term);
        let drawn = String::from_utf8(term.clone()).unwrap();
        assert!(drawn.starts_with("\r[###############               ]  50%  50 / 100 MiB"), "{drawn:?}");
        let mut sink = Vec::new();
        ClearingWriter::new(&mut sink, progress.clone()).write_all(b"warning\n").unwrap();
        assert_eq!(sink, b"\r\x1b[Kwarning\n");
        // Cleared once: the next write goes straight through.
        let mut sink = Vec::new();
        ClearingWriter::new(&mut sink, progress).write_all(b"x").unwrap();
        assert_eq!(sink, b"x");
    }
}
