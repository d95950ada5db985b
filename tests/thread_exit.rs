//! The threaded pipeline returns only once its threads have exited, not
//! merely once their work is done. `std::thread::scope` waits for the
//! closures of the threads it did not see joined, but not for the threads
//! themselves, whose thread-local values (crossbeam's wait context) are
//! freed as they exit; LeakSanitizer, checking right after a fuzz input,
//! once caught a worker between the two and reported its context as
//! leaked (FUZZING.md, "Eighth round").
//!
//! The test puts a thread-local value of its own on every decoding thread
//! (through the prerender hook, which runs there) and counts the values
//! not yet dropped: none may be left when the run returns. A test binary
//! of its own, so that no other test's threads touch the count.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use inspector::envelope::KeyStore;
use inspector::pipeline::{parallel, Decoded, Message, PipelineOptions, Prerender, Record, RecordSink, Rendered};
use inspector::transport::Framing;
use inspector_tests::fixtures::{self, CaptureSpec, ConnectionSpec, Transport};

/// Thread-local values made and not yet dropped.
static ALIVE: AtomicUsize = AtomicUsize::new(0);

/// A value whose drop, when its thread exits, is counted.
struct Counted;

impl Counted {
    fn new() -> Counted {
        ALIVE.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        // The window being tested is a thread's exit after its closure;
        // a slow destructor makes a run that returns inside it certain.
        std::thread::sleep(std::time::Duration::from_millis(2));
        ALIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    static ON_THIS_THREAD: RefCell<Option<Counted>> = const { RefCell::new(None) };
}

/// Leaves a [`Counted`] on every thread it is called on, and renders nothing.
struct LeaveOne;

impl Prerender for LeaveOne {
    fn object(&self, _: &Message<'_>, _: &Decoded<'_>, _: bool) -> Option<Rendered> {
        ON_THIS_THREAD.with(|slot| {
            slot.borrow_mut().get_or_insert_with(Counted::new);
        });
        None
    }
}

struct Requests(usize);

impl RecordSink for Requests {
    fn record(&mut self, record: Record<'_>) {
        if let Record::Request(_) = record {
            self.0 += 1;
        }
    }
}

#[test]
fn no_thread_local_of_a_pipeline_thread_outlives_its_run() {
    let capture = fixtures::build(&CaptureSpec::single(ConnectionSpec::new(Transport::plain(Framing::Full)))).bytes;
    let mut keys = KeyStore::new();
    keys.insert(fixtures::fixture_key());
    let options = PipelineOptions { keys, ..PipelineOptions::default() };
    for round in 0..20 {
        let mut requests = Requests(0);
        let summary = parallel::run(&capture[..], &options, 3, Some(&LeaveOne), &mut requests).expect("a capture");
        let alive = ALIVE.load(Ordering::SeqCst);
        assert_eq!(
            alive, 0,
            "round {round}: {alive} thread-local values of the pipeline's threads still alive after the run returned"
        );
        assert!(requests.0 > 0 && requests.0 as u64 == summary.requests, "round {round}: {} requests", requests.0);
    }
}
