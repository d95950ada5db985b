//! The pipeline on several threads, with the same records in the same order
//! as on one.
//!
//! Connections are independent once TCP has sorted their bytes, so the
//! expensive half (transport, decryption, unwrapping, gzip, TL decoding:
//! `Connections`) runs on `threads` workers, each owning the connections
//! whose id falls to it, and with it the rendering of each request and
//! answer, as far as it does not depend on the ordered stage (the report's
//! [`Prerender`]). Around them:
//!
//! - a reader thread reads the capture, reassembles TCP, and hands each
//!   worker its connections' events in batches (the bytes copied once, into
//!   one buffer per batch). With every batch it sends the reporting thread
//!   the order in which events went to workers (runs of "n events to worker
//!   w"), and the warnings it raised itself, in their place. TCP stays
//!   here: the reassembler's bound on connections held at once is global,
//!   and split it would forget other connections on other thread counts;
//! - the calling thread, which owns the report, follows that order: it
//!   takes the next event's items from that worker's results and gives them
//!   to the `Matcher` (request numbers, answer matching across
//!   connections, counts), which hands records to the sink, which mostly
//!   joins what the worker rendered and writes it. Every worker keeps its
//!   events in order and the order list says whose turn it is, so no
//!   reordering buffer is needed: the records come out exactly as on one
//!   thread.
//!
//! Every queue is a bounded channel of bounded batches, so memory does not
//! grow with the capture (see the constants); spent batches go back to
//! their makers to be reused. The objects a worker made are freed on the
//! reporting thread once it is done with them: jemalloc (the binary's
//! allocator) frees another thread's memory cheaply, and the thread that
//! has just read an object has it in its cache. Live input still streams: the reader reads ahead, and before
//! each read from the input, which may block on a pipe, it sends what it
//! holds; a worker sends its results at the end of every batch. A report
//! that stops (a closed output) drops its receivers; the workers and the
//! reader then stop at their next send.
//!
//! The stages stay sans-IO: this driver owns the threads and channels, and
//! calls the same two halves as [`Pipeline`](super::Pipeline) does.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

// crossbeam's channels rather than rayon: the work is a stream (a live
// capture has no end to split), each connection must stay on one thread in
// order, and what is needed is bounded blocking queues between long-lived
// threads, which rayon's fork-join pool does not give; crossbeam's bounded
// channels are also faster than std's `sync_channel` under contention.
use crossbeam_channel::{bounded, Receiver, Sender};

use super::connections::{At, Connections, Item, ItemSink};
use super::{Decoded, End, Matcher, PipelineOptions, Prerender, RecordSink, Rendered, Summary, Warning};
use crate::capture::{decode_packet, read_capture_buffered, CaptureError, CaptureSink, CaptureWarning, NotTcp, Packet};
use crate::service::{Content, Unwrapped};
use crate::tcp::{ConnId, TcpEvent, TcpReassembler, TcpSink};
use crate::tl::dynamic::DynValue;
use crate::tl::{DecodeError, Frame, TraceEvent};

/// How much of the input is read at once (and at most how much is read
/// before what it holds is sent on): the capture reader's buffer.
const READ_AHEAD: usize = 256 << 10;
/// A worker's batch of events is sent once its bytes reach this.
const IN_BATCH_BYTES: usize = 256 << 10;
/// Events (and the reader's own warnings) held before they are sent.
const IN_BATCH_EVENTS: usize = 4096;
/// A worker's batch of results is sent once it holds about this much.
const OUT_BATCH_BYTES: usize = 1 << 20;
/// Batches waiting in each channel, each way. With the one being filled
/// and the one being used, a worker's share of memory in flight is about
/// `2 * (QUEUED + 2)` batches: a few MiB, whatever the capture's size (a
/// single event or message larger than a batch travels alone).
const QUEUED: usize = 2;
/// Order lists waiting for the reporting thread.
const ORDERS_QUEUED: usize = 8;
/// Spent batches kept for reuse, each way: a batch's buffers keep their
/// capacity, so that the reader does not grow a fresh one (page faults and
/// copies on every realloc) for every batch. One that grew far beyond the
/// usual size (a single large event) is dropped instead.
const SPARE: usize = 2;

/// Run a whole capture from `input` through the pipeline with `threads`
/// workers (at least one), handing records to `sink` on the calling thread
/// in the order a [`Pipeline`](super::Pipeline) would. With `prerender`,
/// the workers render what they can of each request and answer
/// ([`Decoded::rendered`]). The summary, or the reader's error (after the
/// records of what was read before it).
pub fn run<I: Read + Send, K: RecordSink + ?Sized>(
    input: I,
    options: &PipelineOptions,
    threads: usize,
    prerender: Option<&dyn Prerender>,
    sink: &mut K,
) -> Result<Summary, CaptureError> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (to_order, orders) = bounded::<Vec<Step>>(ORDERS_QUEUED);
        let threads = threads.max(1);
        let (spare_in, spent_in) = bounded::<InBatch>(SPARE * threads);
        let mut to_workers = Vec::new();
        let mut cursors = Vec::new();
        let mut workers = Vec::new();
        for index in 0..threads {
            let (to_worker, inbox) = bounded(QUEUED);
            let (outbox, from_worker) = bounded(QUEUED);
            let (spare_out, spent_out) = bounded(SPARE);
            let options = options.clone();
            let spare_in = spare_in.clone();
            let worker = Worker { inbox, outbox, spare_in, spent_out, prerender };
            // Named, so that a profile or `top -H` tells the stages apart.
            let handle = std::thread::Builder::new()
                .name(format!("decode-{index}"))
                .spawn_scoped(scope, move || worker.work(options))
                .expect("spawning a decoding thread");
            workers.push(handle);
            to_workers.push(to_worker);
            cursors.push(Cursor::new(from_worker, spare_out));
        }
        drop(spare_in);
        let stop = &stop;
        let tcp = options.reassembler();
        let reader = std::thread::Builder::new()
            .name("read".into())
            .spawn_scoped(scope, move || read(input, tcp, to_workers, spent_in, to_order, stop))
            .expect("spawning the reading thread");

        let mut matcher = Matcher::new(options);
        let mut summary = None;
        'run: for steps in orders.iter() {
            for step in steps {
                match step {
                    Step::Warning(w) => matcher.warn(w, sink),
                    Step::End(end) => summary = Some(matcher.finish(end, sink)),
                    Step::Worker { index, events } => {
                        let Some(cursor) = cursors.get_mut(index) else { break 'run };
                        for _ in 0..events {
                            // A worker gone before its results: it panicked,
                            // and joining it below raises that panic.
                            if !cursor.next_event(|owned| owned.feed(&mut matcher, sink)) {
                                break 'run;
                            }
                            if !sink.wants_more() {
                                break;
                            }
                        }
                    }
                }
                if !sink.wants_more() {
                    stop.store(true, Ordering::Relaxed);
                    break 'run;
                }
            }
        }
        // Unblock a reader or worker waiting to send, so that they end.
        drop(orders);
        drop(cursors);
        // Every thread is joined, not only left to the scope: the scope
        // waits for the threads' closures, but not for the threads to exit,
        // so their thread-local values (crossbeam's wait context) could
        // still be alive when `run` returns. LeakSanitizer, checking right
        // after a fuzz input, took one for a leak (FUZZING.md, "Eighth
        // round"). Joining waits for the exit; a worker's panic is raised
        // here as itself.
        let read = reader.join();
        for worker in workers {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let end = match read {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // A run cut short still closes with its summary, as on one thread.
        Ok(summary.unwrap_or_else(|| matcher.finish(end, sink)))
    })
}

/// What the reporting thread does next, in capture order.
enum Step {
    /// Take the items of the next `events` events of worker `index`.
    Worker { index: usize, events: usize },
    /// A warning of the reader's own (the capture file, a packet not TCP).
    Warning(Warning),
    /// The capture ended.
    End(End),
}

/// A TCP event waiting for its worker; a Data event's bytes are in its
/// batch's buffer.
struct Queued {
    time_ns: i128,
    event: TcpEvent<'static>,
    bytes: Range<usize>,
}

impl Queued {
    /// The event as the reassembler gave it, its bytes lent from `buffer`.
    fn lend<'b>(&self, buffer: &'b [u8]) -> TcpEvent<'b> {
        match &self.event {
            &TcpEvent::Data { conn, direction, offset, .. } => {
                let bytes = buffer.get(self.bytes.clone()).unwrap_or_default();
                TcpEvent::Data { conn, direction, offset, bytes: Cow::Borrowed(bytes) }
            }
            other => other.clone(),
        }
    }
}

/// Events for one worker.
#[derive(Default)]
struct InBatch {
    events: Vec<Queued>,
    bytes: Vec<u8>,
}

impl InBatch {
    /// Emptied for reuse, if its buffers are of the usual size.
    fn spare(mut self) -> Option<Self> {
        (self.bytes.capacity() <= 2 * IN_BATCH_BYTES && self.events.capacity() <= 2 * IN_BATCH_EVENTS).then(|| {
            self.events.clear();
            self.bytes.clear();
            self
        })
    }
}

fn conn_of(event: &TcpEvent<'_>) -> ConnId {
    match event {
        TcpEvent::Opened { conn, .. }
        | TcpEvent::Data { conn, .. }
        | TcpEvent::Gap { conn, .. }
        | TcpEvent::Closed { conn, .. }
        | TcpEvent::Forgotten { conn } => *conn,
    }
}

/// The reader thread's outgoing side: batches per worker and the order
/// list, sent together.
struct Dispatch {
    batches: Vec<InBatch>,
    steps: Vec<Step>,
    /// Events and steps held since the last send.
    held: usize,
    to_workers: Vec<Sender<InBatch>>,
    /// Batches the workers are done with.
    spent: Receiver<InBatch>,
    to_order: Sender<Vec<Step>>,
    /// A receiver went away (the report stopped, or a worker failed).
    closed: bool,
    /// Capture time of the last packet.
    time_ns: i128,
}

impl Dispatch {
    fn step(&mut self, step: Step) {
        self.steps.push(step);
        self.held += 1;
        if self.held >= IN_BATCH_EVENTS {
            self.send();
        }
    }

    /// Send what is held: the workers' batches first, so that every event
    /// the order list names is already on its way to its worker.
    fn send(&mut self) {
        self.held = 0;
        if self.closed {
            self.steps.clear();
            self.batches.iter_mut().for_each(|b| *b = InBatch::default());
            return;
        }
        if self.steps.is_empty() {
            return;
        }
        for (batch, to) in self.batches.iter_mut().zip(&self.to_workers) {
            if batch.events.is_empty() {
                continue;
            }
            let next = self.spent.try_recv().unwrap_or_default();
            if to.send(std::mem::replace(batch, next)).is_err() {
                self.closed = true;
                return self.send();
            }
        }
        if self.to_order.send(std::mem::take(&mut self.steps)).is_err() {
            self.closed = true;
        }
    }
}

impl TcpSink for Dispatch {
    fn event(&mut self, event: TcpEvent<'_>) {
        let index = conn_of(&event) % self.batches.len();
        let batch = &mut self.batches[index];
        let queued = match event {
            TcpEvent::Data { conn, direction, offset, bytes } => {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(&bytes);
                let event = TcpEvent::Data { conn, direction, offset, bytes: Cow::Borrowed(&[]) };
                Queued { time_ns: self.time_ns, event, bytes: start..batch.bytes.len() }
            }
            other => Queued { time_ns: self.time_ns, event: other.into_owned(), bytes: 0..0 },
        };
        batch.events.push(queued);
        let full = batch.bytes.len() >= IN_BATCH_BYTES;
        match self.steps.last_mut() {
            Some(Step::Worker { index: last, events }) if *last == index => *events += 1,
            _ => self.steps.push(Step::Worker { index, events: 1 }),
        }
        self.held += 1;
        if full || self.held >= IN_BATCH_EVENTS {
            self.send();
        }
    }
}

/// The capture reader's sink on the reader thread: packets into the
/// reassembler, whose events go to the dispatch.
struct ReaderSink<'d> {
    tcp: TcpReassembler,
    dispatch: &'d RefCell<Dispatch>,
    stop: &'d AtomicBool,
}

impl CaptureSink for ReaderSink<'_> {
    fn packet(&mut self, packet: &Packet<'_>) {
        let mut dispatch = self.dispatch.borrow_mut();
        dispatch.time_ns = packet.time_ns;
        match decode_packet(packet.linktype, packet.data) {
            Ok(segment) => self.tcp.segment(&segment, &mut *dispatch),
            Err(NotTcp::OtherProtocol) => {}
            Err(problem) => dispatch.step(Step::Warning(Warning::Packet { number: packet.number, problem })),
        }
    }

    fn warning(&mut self, warning: CaptureWarning) {
        self.dispatch.borrow_mut().step(Step::Warning(Warning::Capture(warning)));
    }

    fn wants_more(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && !self.dispatch.borrow().closed
    }
}

/// The input, sending what is held before every read from it: a read from
/// a live pipe may wait for the next packet, and what came before must not
/// wait with it. The capture reader's buffer is [`READ_AHEAD`] bytes, so
/// that on a file a read brings that much, batches are large and the
/// threads wake each other seldom (each handoff costs a wake-up and a
/// context switch, which with 64 KiB reads came to a tenth of the CPU
/// time); on a pipe it brings what is there. The reads go straight into
/// the capture reader's buffer: an earlier read-ahead buffer of this
/// reader's own cost one more copy of the whole capture.
struct SendingReader<'d, R> {
    inner: R,
    dispatch: &'d RefCell<Dispatch>,
}

impl<R: Read> Read for SendingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.dispatch.borrow_mut().send();
        self.inner.read(buf)
    }
}

/// The reader thread: the capture through the reassembler, its events to
/// the workers. How the capture ended, or the reader's error.
fn read<I: Read>(
    input: I,
    tcp: TcpReassembler,
    to_workers: Vec<Sender<InBatch>>,
    spent: Receiver<InBatch>,
    to_order: Sender<Vec<Step>>,
    stop: &AtomicBool,
) -> Result<End, CaptureError> {
    let batches = to_workers.iter().map(|_| InBatch::default()).collect();
    let dispatch = RefCell::new(Dispatch {
        batches,
        steps: Vec::new(),
        held: 0,
        to_workers,
        spent,
        to_order,
        closed: false,
        time_ns: 0,
    });
    let mut sink = ReaderSink { tcp, dispatch: &dispatch, stop };
    let result = read_capture_buffered(SendingReader { inner: input, dispatch: &dispatch }, READ_AHEAD, &mut sink);
    let mut dispatch = dispatch.borrow_mut();
    let result = result.map(|stats| {
        sink.tcp.finish(&mut *dispatch);
        let tcp = &sink.tcp;
        End {
            packets: stats.packets,
            connections: tcp.connection_count(),
            forgotten: tcp.stats().forgotten_connections,
        }
    });
    if let Ok(end) = &result {
        dispatch.step(Step::End(*end));
    }
    dispatch.send();
    result
}

/// A worker's channels.
struct Worker<'p> {
    inbox: Receiver<InBatch>,
    outbox: Sender<OutBatch>,
    /// Where its spent input batches go back to the reader.
    spare_in: Sender<InBatch>,
    /// Its output batches, back from the reporting thread.
    spent_out: Receiver<OutBatch>,
    prerender: Option<&'p dyn Prerender>,
}

impl Worker<'_> {
    /// Its connections' events in, their items out, batch by batch.
    fn work(self, options: PipelineOptions) {
        let mut connections = Connections::new(options);
        let mut out = OutBatch::default();
        let mut sink = Outgoing { out: &mut out, prerender: self.prerender };
        for batch in self.inbox.iter() {
            for queued in &batch.events {
                connections.tcp_event(queued.time_ns, queued.lend(&batch.bytes), &mut sink);
                sink.out.ends.push(sink.out.items.len());
                if sink.out.bytes >= OUT_BATCH_BYTES && !self.send(sink.out) {
                    return;
                }
            }
            if !sink.out.ends.is_empty() && !self.send(sink.out) {
                return;
            }
            if let Some(spare) = batch.spare() {
                // The pool full: the batch is dropped instead.
                let _ = self.spare_in.try_send(spare);
            }
        }
    }

    /// Send `out`, starting a new one (a spent one if there is, emptied
    /// here); false if the reporting thread has gone.
    fn send(&self, out: &mut OutBatch) -> bool {
        let next = self.spent_out.try_recv().map(OutBatch::emptied).unwrap_or_default();
        self.outbox.send(std::mem::replace(out, next)).is_ok()
    }
}

/// A worker's items, owned, with where each event's items end.
#[derive(Default)]
struct OutBatch {
    items: Vec<Owned>,
    /// For each event in order, the end of its items in `items`.
    ends: Vec<usize>,
    /// About how much the items hold.
    bytes: usize,
}

impl OutBatch {
    /// Whether to send it back for reuse: not if it grew far beyond the
    /// usual size, or holds a large object.
    fn reusable(&self) -> bool {
        self.items.capacity() <= 8 * IN_BATCH_EVENTS
            && self.ends.capacity() <= 2 * IN_BATCH_EVENTS
            && self.bytes <= 2 * OUT_BATCH_BYTES
    }

    fn emptied(mut self) -> Self {
        self.items.clear();
        self.ends.clear();
        self.bytes = 0;
        self
    }
}

/// The worker's sink: items into its batch, requests and answers rendered
/// on the way when the report can.
struct Outgoing<'o, 'p> {
    out: &'o mut OutBatch,
    prerender: Option<&'p dyn Prerender>,
}

/// An [`Item`] that can cross threads: the object's bytes are taken from
/// the worker (not copied), the trace is copied.
///
/// What holds more than a few words is boxed, so that the items (a few for
/// every frame) stay small to move: the rarer ones for that alone, an
/// object also so that its parts are not copied between threads.
enum Owned {
    Warning(Box<Warning>),
    Frame,
    Message,
    UnknownKey(Box<(super::Origin, u64, usize)>),
    Object(Box<OwnedObject>),
    QuickAck(Box<(super::Origin, u32)>),
    Forgotten(Box<(ConnId, super::Origin)>),
    Closed { conn: ConnId },
}

struct OwnedObject {
    conn: ConnId,
    at: At,
    object: Unwrapped,
    decoded: Option<Result<Frame, DecodeError>>,
    trace: Vec<TraceEvent>,
    dynamic: Option<Result<DynValue, DecodeError>>,
    rendered: Option<Rendered>,
}

impl ItemSink for Outgoing<'_, '_> {
    fn item(&mut self, item: Item<'_>) {
        let out = &mut *self.out;
        let owned = match item {
            Item::Warning(w) => Owned::Warning(Box::new(w)),
            Item::Frame => Owned::Frame,
            Item::Message => Owned::Message,
            Item::UnknownKey { origin, auth_key_id, len } => Owned::UnknownKey(Box::new((origin, auth_key_id, len))),
            Item::Object { conn, at, object, mut decoded, trace, dynamic, rendered } => {
                let rendered = match (&object.content, self.prerender, decoded.take()) {
                    (Content::Request(bytes) | Content::Answer(bytes), Some(prerender), Some(value)) => {
                        let answer = matches!(object.content, Content::Answer(_));
                        let d = Decoded { bytes, value, trace, rendered: None };
                        let rendered = prerender.object(&at.message(object), &d, answer);
                        decoded = Some(d.value);
                        rendered
                    }
                    (_, _, value) => {
                        decoded = value;
                        rendered
                    }
                };
                // A rendered record needs no trace any more.
                let trace = if rendered.is_some() { Vec::new() } else { trace.to_vec() };
                let object = Unwrapped {
                    msg_id: object.msg_id,
                    seq_no: object.seq_no,
                    wrapping: std::mem::take(&mut object.wrapping),
                    req_msg_id: object.req_msg_id,
                    content: std::mem::replace(
                        &mut object.content,
                        Content::Other { id: 0, len: 0, bytes: Vec::new() },
                    ),
                };
                out.bytes += match &object.content {
                    Content::Request(b) | Content::Answer(b) | Content::Other { bytes: b, .. } => b.len(),
                    _ => 0,
                } + std::mem::size_of_val(&trace[..])
                    + rendered.as_ref().map_or(0, |r| r.text.len());
                Owned::Object(Box::new(OwnedObject { conn, at, object, decoded, trace, dynamic, rendered }))
            }
            Item::QuickAck { origin, token } => Owned::QuickAck(Box::new((origin, token))),
            Item::Forgotten { conn, origin } => Owned::Forgotten(Box::new((conn, origin))),
            Item::Closed { conn } => Owned::Closed { conn },
        };
        out.bytes += std::mem::size_of::<Owned>();
        out.items.push(owned);
    }
}

impl Owned {
    /// Give the item to the matcher, lending what it owns.
    fn feed<K: RecordSink + ?Sized>(self, matcher: &mut Matcher, sink: &mut K) {
        let item = match self {
            Owned::Warning(w) => Item::Warning(*w),
            Owned::Frame => Item::Frame,
            Owned::Message => Item::Message,
            Owned::UnknownKey(unknown) => {
                let (origin, auth_key_id, len) = *unknown;
                Item::UnknownKey { origin, auth_key_id, len }
            }
            Owned::Object(mut owned) => {
                let o = &mut *owned;
                let item = Item::Object {
                    conn: o.conn,
                    at: o.at.clone(),
                    object: &mut o.object,
                    decoded: o.decoded.take(),
                    trace: &o.trace,
                    dynamic: o.dynamic.take(),
                    rendered: o.rendered.take(),
                };
                return matcher.item(item, sink);
            }
            Owned::QuickAck(ack) => {
                let (origin, token) = *ack;
                Item::QuickAck { origin, token }
            }
            Owned::Forgotten(forgotten) => {
                let (conn, origin) = *forgotten;
                Item::Forgotten { conn, origin }
            }
            Owned::Closed { conn } => Item::Closed { conn },
        };
        matcher.item(item, sink);
    }
}

/// The reporting thread's place in one worker's results.
struct Cursor {
    from: Receiver<OutBatch>,
    /// Where spent batches go back to the worker.
    spare: Sender<OutBatch>,
    batch: OutBatch,
    /// Events and items of `batch` taken so far (an item taken is left a
    /// `Frame`, which owns nothing).
    events: usize,
    taken: usize,
}

impl Cursor {
    fn new(from: Receiver<OutBatch>, spare: Sender<OutBatch>) -> Self {
        Cursor { from, spare, batch: OutBatch::default(), events: 0, taken: 0 }
    }

    /// Hand the items of the worker's next event to `each`; false if the
    /// worker ended without them.
    fn next_event(&mut self, mut each: impl FnMut(Owned)) -> bool {
        while self.events >= self.batch.ends.len() {
            let Ok(batch) = self.from.recv() else { return false };
            let spent = std::mem::replace(&mut self.batch, batch);
            if spent.reusable() {
                // The pool full: the batch is dropped here instead.
                let _ = self.spare.try_send(spent);
            }
            self.events = 0;
            self.taken = 0;
        }
        let end = self.batch.ends[self.events].min(self.batch.items.len());
        for slot in self.batch.items.get_mut(self.taken..end).unwrap_or_default() {
            each(std::mem::replace(slot, Owned::Frame));
        }
        self.events += 1;
        self.taken = end.max(self.taken);
        true
    }
}
