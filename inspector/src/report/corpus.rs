//! `--extract-corpus`: every request and answer found, saved as a fuzz
//! seed (its bare TL bytes, named by their SHA-256), in front of the report
//! that shows them.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Report;
use crate::pipeline::{Prerender, Record, RecordSink, Summary, Warning};

/// Writes the seeds, then hands every record on to `inner`; a file it
/// cannot write becomes a warning of `inner`'s.
pub struct CorpusWriter<R: Report> {
    dir: PathBuf,
    inner: R,
    /// New files written (a seed already there is not counted).
    extracted: u64,
    warnings: u64,
}

impl<R: Report> CorpusWriter<R> {
    /// `dir` must exist.
    pub fn new(dir: &Path, inner: R) -> Self {
        CorpusWriter { dir: dir.to_path_buf(), inner, extracted: 0, warnings: 0 }
    }

    fn extract(&mut self, bytes: &[u8]) {
        let name = crate::hex::encode(&Sha256::digest(bytes));
        let path = self.dir.join(name);
        if path.exists() {
            return;
        }
        match std::fs::write(&path, bytes) {
            Ok(()) => self.extracted += 1,
            Err(e) => {
                self.warnings += 1;
                let message = format!("--extract-corpus: cannot write {}: {e}", path.display());
                self.inner.record(Record::Warning(Warning::Report(message)));
            }
        }
    }
}

impl<R: Report> RecordSink for CorpusWriter<R> {
    fn record(&mut self, mut record: Record<'_>) {
        match &mut record {
            Record::Request(r) => self.extract(r.decoded.bytes),
            Record::Answer(a) => self.extract(a.decoded.bytes),
            Record::Summary(s) => self.add_counts(s),
            _ => {}
        }
        self.inner.record(record);
    }

    fn wants_more(&self) -> bool {
        self.inner.wants_more()
    }
}

impl<R: Report> Report for CorpusWriter<R> {
    fn finish(&mut self) -> io::Result<()> {
        self.inner.finish()
    }

    fn add_counts(&self, summary: &mut Summary) {
        summary.extracted += self.extracted;
        summary.warnings += self.warnings;
        self.inner.add_counts(summary);
    }

    fn prerender(&self) -> Option<Box<dyn Prerender>> {
        self.inner.prerender()
    }
}
