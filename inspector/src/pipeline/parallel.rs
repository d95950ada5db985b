//! The pipeline on several threads, with the same records in the same order
//! as on one.
//!
//! Connections are independent once TCP has sorted their bytes, so the
//! expensive half (transport, decryption, unwrapping, gzip, TL decoding:
//! `Connections`) runs on `threads` workers, each owning the connections
//! whose id falls to it. Around them:
//!
//! - a reader thread reads the capture, reassembles TCP, and hands each
//!   worker its connections' events in batches (the bytes copied once, into
//!   one buffer per batch). With every batch it sends the reporting thread
//!   the order in which events went to workers (runs of "n events to worker
//!   w"), and the warnings it raised itself, in their place;
//! - the calling thread, which owns the report, follows that order: it
//!   takes the next event's items from that worker's results and gives them
//!   to the `Matcher` (request numbers, answer matching across
//!   connections, counts), which hands records to the sink. Every worker
//!   keeps its events in order and the order list says whose turn it is, so
//!   no reordering buffer is needed: the records come out exactly as on one
//!   thread.
//!
//! Every queue is a bounded channel of bounded batches, so memory does not
//! grow with the capture (see the constants). Live input still streams:
//! before each read from the input, which may block on a pipe, the reader
//! sends what it holds, and a worker sends its results at the end of every
//! batch. A report that stops (a closed output) drops its receivers; the
//! workers and the reader then stop at their next send.
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
use super::{End, Matcher, PipelineOptions, RecordSink, Summary, Warning};
use crate::capture::{decode_packet, read_capture_into, CaptureError, CaptureSink, CaptureWarning, NotTcp, Packet};
use crate::service::{Content, Unwrapped};
use crate::tcp::{ConnId, TcpEvent, TcpReassembler, TcpSink};
use crate::tl::dynamic::DynValue;
use crate::tl::{DecodeError, Frame, TraceEvent};

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

/// Run a whole capture from `input` through the pipeline with `threads`
/// workers (at least one), handing records to `sink` on the calling thread
/// in the order a [`Pipeline`](super::Pipeline) would. The summary, or the
/// reader's error (after the records of what was read before it).
pub fn run<I: Read + Send, K: RecordSink + ?Sized>(
    input: I,
    options: &PipelineOptions,
    threads: usize,
    sink: &mut K,
) -> Result<Summary, CaptureError> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (to_order, orders) = bounded::<Vec<Step>>(ORDERS_QUEUED);
        let mut to_workers = Vec::new();
        let mut cursors = Vec::new();
        for _ in 0..threads.max(1) {
            let (to_worker, inbox) = bounded(QUEUED);
            let (outbox, from_worker) = bounded(QUEUED);
            let options = options.clone();
            scope.spawn(move || work(options, &inbox, &outbox));
            to_workers.push(to_worker);
            cursors.push(Cursor::new(from_worker));
        }
        let stop = &stop;
        let reader = scope.spawn(move || read(input, to_workers, to_order, stop));

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
                            // and the scope raises that panic here.
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
        let end = match reader.join() {
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
            if !batch.events.is_empty() && to.send(std::mem::take(batch)).is_err() {
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

/// The input, sending what is held before every read: a read from a live
/// pipe may wait for the next packet, and what came before must not wait
/// with it. On a file a read brings tens of kilobytes, so batches stay large.
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
    to_workers: Vec<Sender<InBatch>>,
    to_order: Sender<Vec<Step>>,
    stop: &AtomicBool,
) -> Result<End, CaptureError> {
    let batches = to_workers.iter().map(|_| InBatch::default()).collect();
    let dispatch =
        RefCell::new(Dispatch { batches, steps: Vec::new(), held: 0, to_workers, to_order, closed: false, time_ns: 0 });
    let mut sink = ReaderSink { tcp: TcpReassembler::new(), dispatch: &dispatch, stop };
    let result = read_capture_into(SendingReader { inner: input, dispatch: &dispatch }, &mut sink);
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

/// A worker: its connections' events in, their items out, batch by batch.
fn work(options: PipelineOptions, inbox: &Receiver<InBatch>, outbox: &Sender<OutBatch>) {
    let mut connections = Connections::new(options);
    let mut out = OutBatch::default();
    for batch in inbox.iter() {
        for queued in &batch.events {
            connections.tcp_event(queued.time_ns, queued.lend(&batch.bytes), &mut out);
            out.ends.push(out.items.len());
            if out.bytes >= OUT_BATCH_BYTES && outbox.send(std::mem::take(&mut out)).is_err() {
                return;
            }
        }
        if !out.ends.is_empty() && outbox.send(std::mem::take(&mut out)).is_err() {
            return;
        }
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

/// An [`Item`] that can cross threads: the object's bytes are taken from
/// the worker (not copied), the trace is copied.
enum Owned {
    Warning(Warning),
    Frame,
    Message,
    UnknownKey {
        origin: super::Origin,
        auth_key_id: u64,
        len: usize,
    },
    /// Boxed: far larger than the other items, and far rarer.
    Object(Box<OwnedObject>),
    QuickAck {
        origin: super::Origin,
        token: u32,
    },
    Forgotten {
        conn: ConnId,
        origin: super::Origin,
    },
    Closed {
        conn: ConnId,
    },
}

struct OwnedObject {
    conn: ConnId,
    at: At,
    object: Unwrapped,
    decoded: Option<Result<Frame, DecodeError>>,
    trace: Vec<TraceEvent>,
    dynamic: Option<Result<DynValue, DecodeError>>,
}

impl ItemSink for OutBatch {
    fn item(&mut self, item: Item<'_>) {
        let owned = match item {
            Item::Warning(w) => Owned::Warning(w),
            Item::Frame => Owned::Frame,
            Item::Message => Owned::Message,
            Item::UnknownKey { origin, auth_key_id, len } => Owned::UnknownKey { origin, auth_key_id, len },
            Item::Object { conn, at, object, decoded, trace, dynamic } => {
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
                self.bytes += match &object.content {
                    Content::Request(b) | Content::Answer(b) | Content::Other { bytes: b, .. } => b.len(),
                    _ => 0,
                } + std::mem::size_of_val(trace);
                Owned::Object(Box::new(OwnedObject { conn, at, object, decoded, trace: trace.to_vec(), dynamic }))
            }
            Item::QuickAck { origin, token } => Owned::QuickAck { origin, token },
            Item::Forgotten { conn, origin } => Owned::Forgotten { conn, origin },
            Item::Closed { conn } => Owned::Closed { conn },
        };
        self.bytes += std::mem::size_of::<Owned>();
        self.items.push(owned);
    }
}

impl Owned {
    /// Give the item to the matcher, lending what it owns.
    fn feed<K: RecordSink + ?Sized>(self, matcher: &mut Matcher, sink: &mut K) {
        let item = match self {
            Owned::Warning(w) => Item::Warning(w),
            Owned::Frame => Item::Frame,
            Owned::Message => Item::Message,
            Owned::UnknownKey { origin, auth_key_id, len } => Item::UnknownKey { origin, auth_key_id, len },
            Owned::Object(owned) => {
                let OwnedObject { conn, at, mut object, decoded, trace, dynamic } = *owned;
                let item = Item::Object { conn, at, object: &mut object, decoded, trace: &trace, dynamic };
                return matcher.item(item, sink);
            }
            Owned::QuickAck { origin, token } => Item::QuickAck { origin, token },
            Owned::Forgotten { conn, origin } => Item::Forgotten { conn, origin },
            Owned::Closed { conn } => Item::Closed { conn },
        };
        matcher.item(item, sink);
    }
}

/// The reporting thread's place in one worker's results.
struct Cursor {
    from: Receiver<OutBatch>,
    items: std::vec::IntoIter<Owned>,
    ends: std::vec::IntoIter<usize>,
    /// Items of the current batch taken so far.
    taken: usize,
}

impl Cursor {
    fn new(from: Receiver<OutBatch>) -> Self {
        Cursor { from, items: Vec::new().into_iter(), ends: Vec::new().into_iter(), taken: 0 }
    }

    /// Hand the items of the worker's next event to `each`; false if the
    /// worker ended without them.
    fn next_event(&mut self, mut each: impl FnMut(Owned)) -> bool {
        let end = loop {
            if let Some(end) = self.ends.next() {
                break end;
            }
            let Ok(batch) = self.from.recv() else { return false };
            self.items = batch.items.into_iter();
            self.ends = batch.ends.into_iter();
            self.taken = 0;
        };
        for owned in self.items.by_ref().take(end.saturating_sub(self.taken)) {
            each(owned);
        }
        self.taken = end;
        true
    }
}
