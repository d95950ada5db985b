//! The properties the fuzz targets check, as plain functions over the fuzzer's
//! bytes, so that the libFuzzer binaries in `fuzz/` are one-liners and
//! `cargo test` (`tests/corpus_replay.rs`) replays the committed corpus
//! through exactly the same code.
//!
//! Every function here panics, with a message naming the property, when a
//! property does not hold: a panic is how a libFuzzer target reports a
//! finding. That is why they live here, beside the test support, and not in
//! the product library, where nothing may panic on input; and here they
//! build their inputs with the same fixture writer as the tests.
//!
//! The differential target compares against another TL implementation,
//! which [`differential`] takes as a [`ReferenceCodec`]; the fuzz crate and
//! the replay test share one implementation over the grammers crates
//! (`fuzz/src/reference.rs`).

use std::cell::RefCell;
use std::fmt::Debug;

pub mod conversation;
mod json_text;
mod pipeline;
mod pipeline_runs;

pub use conversation::{conversation, conversation_with};
pub use pipeline::{
    capture_file, envelope, pcap_pipeline, pcap_pipeline_checks, pcap_pipeline_with, report_line_warns, service,
    tcp_reassembly, transport, PipelineChecks,
};
pub use pipeline_runs::{limits_choice, reader_goes_away_chosen};

/// Which of the whole-pipeline targets' costly checks (`conversation`,
/// `pcap_pipeline`: the text report, the run on two threads, and
/// pcap_pipeline's runs with a reader that goes away and with small
/// connection limits) an input gets.
///
/// While fuzzing, each runs on a sample of the inputs chosen by their
/// bytes ([`Checks::Sampled`]): every execution pays for what it runs, and
/// these cost more than the rest of the property. The inputs a run keeps
/// (its corpus) then get all of them ([`Checks::All`]): `fuzz/run.sh`
/// replays the corpus with `INSPECTOR_FUZZ_ALL_CHECKS=1` after each run of
/// these two targets, and `tests/corpus_replay.rs` replays the committed
/// corpus that way, so no input that added coverage goes unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// Each costly check on its sample of the inputs.
    Sampled,
    /// Every costly check on every input.
    All,
}

impl Checks {
    /// What a fuzz target runs: [`Checks::All`] when the environment has
    /// `INSPECTOR_FUZZ_ALL_CHECKS=1`, otherwise [`Checks::Sampled`]. Read
    /// once per process.
    pub fn from_env() -> Checks {
        static ALL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let all = *ALL.get_or_init(|| std::env::var_os("INSPECTOR_FUZZ_ALL_CHECKS").is_some_and(|v| v == "1"));
        if all {
            Checks::All
        } else {
            Checks::Sampled
        }
    }
}

use arbitrary::{Arbitrary, Unstructured};

use inspector::hex::encode as hex;
use inspector::input::{decode_input, InputEncoding};
use inspector::render::explain;
use inspector::render::hexdump::render_hexdump;
use inspector::render::tree::render_tree;
use inspector::tl::json::{TlJson, TlJsonWrite};
use inspector::tl::writer::MAX_STRING_LEN;
use inspector::tl::{
    decode_top, decode_traced, decode_traced_into, decode_with_sink, with_flag_fields_into, DecodeError, DecodeOptions,
    EncodeError, ExportChatInvite, ExportedChatInvite, Frame, FullTrace, InputPeer, Problem, Recorder, RpcError,
    StarsSubscriptionPricing, TlObject, TlString, TraceEvent, Traced, MAX_DEPTH_LIMIT,
};

/// The fuzz target `roundtrip`: an arbitrary request survives encode and
/// strict decode unchanged, as a frame and as itself.
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if let Ok(request) = ExportChatInvite::arbitrary(&mut u) {
        check_as_itself(&request);
        check_value(&Frame::Request(request));
    }
}

/// The fuzz target `roundtrip_result`: the same for the answers, an
/// `ExportedChatInvite` (both constructors, every optional field) or an
/// `rpc_error`.
pub fn roundtrip_result(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(error_answer) = bool::arbitrary(&mut u) else {
        return;
    };
    if error_answer {
        if let Ok(error) = RpcError::arbitrary(&mut u) {
            check_as_itself(&error);
            check_value(&Frame::Error(error));
        }
    } else if let Ok(answer) = ExportedChatInvite::arbitrary(&mut u) {
        check_as_itself(&answer);
        check_value(&Frame::Answer(answer));
    }
}

/// A value decodes as its own type too, not only inside a [`Frame`] (which
/// [`check_value`] checks in full).
fn check_as_itself<T>(value: &T)
where
    T: TlObject + PartialEq + Debug,
{
    let Ok(bytes) = value.to_bytes() else { return };
    match decode_top::<T>(&bytes, DecodeOptions::strict()) {
        Ok(decoded) => assert_eq!(&decoded, value, "decode(encode(value)) as {} differs", T::TYPE_NAME),
        Err(e) => panic!("strict decode as {} rejected our own encoding of {value:?}: {e}", T::TYPE_NAME),
    }
}

/// Encode, strictly decode, compare (the trace, the fields without bytes);
/// encode again. (Rendering and the JSON form: the `render` and `json` targets.)
fn check_value<T>(value: &T)
where
    T: TlObject + TlJson + PartialEq + Debug + Clone,
{
    let bytes = match value.to_bytes() {
        Ok(bytes) => bytes,
        // The only value TL cannot encode is a string of 16 MiB or more; the
        // Arbitrary impls never draw one, but a refusal is right if they did.
        Err(EncodeError::StringTooLong { len }) => {
            assert!(len > MAX_STRING_LEN, "encoder refused a string of {len} bytes, which TL can encode");
            return;
        }
    };
    let traced = traced::<T>(&bytes, DecodeOptions::strict());
    check_flag_fields(&bytes, DecodeOptions::strict(), &traced);
    let decoded = match &traced.result {
        Ok(decoded) => decoded,
        Err(e) => {
            panic!("strict decode rejected our own encoding of {value:?}\n  bytes: {}\n  error: {e}", hex(&bytes))
        }
    };
    assert!(traced.warnings.is_empty(), "strict decode produced warnings: {:?}", traced.warnings);
    assert_eq!(decoded, value, "decode(encode(value)) differs from value; bytes: {}", hex(&bytes));
    let again = decoded.to_bytes().expect("re-encoding a decoded value");
    same_bytes(&again, &bytes, "encoding is not stable across a decode");
    check_trace(&bytes, &traced.trace);
    recycle(traced);
}

/// The fuzz target `json`: the canonical JSON form, as text (the way
/// `decode --format json` and `encode` meet it), reads back as the same
/// value and encodes to the same bytes, and the JSON report's writer
/// (`write_json`, straight from the value) writes that text byte for
/// byte, for
///
/// - an arbitrary frame drawn from the bytes (every shape of value), and
/// - the bytes themselves where strict or lenient decoding accepts them (a
///   leniently decoded frame, which may hold text that is not UTF-8, goes
///   through the `{"_": "bytes"}` form).
///
/// Apart from the decoding targets because building and parsing JSON costs
/// more than all the decoding: checked on every input there, it made them
/// slow.
pub fn json(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if let Ok(frame) = Frame::arbitrary(&mut u) {
        if let Ok(bytes) = frame.to_bytes() {
            check_json(&frame, &bytes);
        }
    }
    // What strict decoding accepts, lenient decoding reads as the same frame
    // (decode_bytes checks this): the lenient frame is checked only when
    // strict decoding refused the bytes.
    let decoded = decode_top::<Frame>(data, DecodeOptions::strict())
        .or_else(|_| decode_top::<Frame>(data, DecodeOptions::lenient()));
    if let Ok(frame) = decoded {
        let bytes = frame.to_bytes().expect("encoding a decoded frame");
        check_json(&frame, &bytes);
    }
    json_text::json_text(data);
}

/// The JSON form, as text, reads back as `value` and encodes to `bytes`;
/// `write_json` writes the same text.
fn check_json<T>(value: &T, bytes: &[u8])
where
    T: TlObject + TlJson + TlJsonWrite + PartialEq + Debug + Clone,
{
    let json = value.to_json();
    let text = serde_json::to_string(&json).expect("serializing a JSON value");
    let mut written = Vec::new();
    value.write_json(&mut written).expect("a Vec takes every write");
    assert!(
        written == text.as_bytes(),
        "write_json and to_json differ for {value:?}:\n write_json {}\n to_json    {text}",
        String::from_utf8_lossy(&written)
    );
    let parsed: serde_json::Value = match serde_json::from_str(&text) {
        Ok(parsed) => parsed,
        Err(e) => panic!("our own JSON text does not parse: {e}\n  json: {text}"),
    };
    let back = match T::from_json(&parsed) {
        Ok(back) => back,
        Err(e) => panic!("from_json rejected to_json of {value:?}: {e}\n  json: {text}"),
    };
    assert_eq!(&back, value, "from_json(to_json(value)) differs; json: {text}");
    let encoded = back.to_bytes().expect("encoding a value read from JSON");
    // The message (with the whole JSON text) is formatted only on failure:
    // formatting it on every input was a string the size of the text per check.
    if encoded != bytes {
        same_bytes(&encoded, bytes, &format!("encode(from_json(to_json)) differs from encode; json: {text}"));
    }
    // `into_json` takes the value apart: it is given the read-back, equal
    // to `value` (checked above) and not needed any more, rather than a
    // clone of `value` made for it (a copy of every string per check).
    assert_eq!(back.into_json(), json, "into_json and to_json differ for {value:?}");
}

/// The fuzz target `render`: every renderer, with and without colour, never
/// panics and draws something for what was decoded.
///
/// - Arbitrary bytes, decoded strictly and leniently: the tree and the
///   annotated hex dump of what was accepted, the `--explain` view (partial
///   tree, marked bytes) of what was rejected, and the lenient trace. A
///   lenient decode that met nothing to forgive took the strict decode's
///   path (same trace, same result): drawing it again would draw the same
///   text, so it is drawn once.
/// - An arbitrary frame drawn from the same bytes, encoded: its tree and hex
///   dump (the rendering of valid frames of every shape, which arbitrary
///   bytes rarely are).
///
/// Each input is drawn in one colour mode, with colour or without, chosen
/// by its bytes (`colour_of`): drawing costs far more than decoding, and
/// a mutation moves an input from one mode to the other, so both are drawn
/// for every shape the fuzzer finds (and `cargo test` replays each seed in
/// its mode).
///
/// Apart from the decoding targets because drawing costs far more than
/// decoding: checked on every input there, it made them slow.
pub fn render(data: &[u8]) {
    let color = colour_of(data);
    let strict = traced::<Frame>(data, DecodeOptions::strict());
    let lenient = traced::<Frame>(data, DecodeOptions::lenient());
    let again = (!same_path(&strict, &lenient)).then_some(&lenient);
    for traced in std::iter::once(&strict).chain(again) {
        match &traced.result {
            Ok(_) => render_all(data, &traced.trace, color),
            Err(e) => {
                let text = explain(data, &traced.trace, e, color);
                assert!(!text.is_empty(), "--explain drew nothing for {e}");
            }
        }
    }
    let mut u = Unstructured::new(data);
    if let Ok(frame) = Frame::arbitrary(&mut u) {
        if let Ok(bytes) = frame.to_bytes() {
            let traced = traced::<Frame>(&bytes, DecodeOptions::strict());
            assert!(traced.result.is_ok(), "strict decode rejected our own encoding of {frame:?}");
            render_all(&bytes, &traced.trace, color);
            recycle(traced);
        }
    }
    recycle(strict);
    recycle(lenient);
}

/// Whether [`render`] draws `data` in colour: the parity of its byte sum, so
/// that a replay draws it the same way and any one-byte change of an odd
/// amount switches.
fn colour_of(data: &[u8]) -> bool {
    data.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)) % 2 == 1
}

/// The tree and the hex dump, in colour or not, on a (possibly partial) trace.
fn render_all(bytes: &[u8], trace: &[TraceEvent], color: bool) {
    let tree = render_tree(bytes, trace, color);
    assert!(trace.is_empty() || !tree.is_empty(), "render_tree drew nothing for a non-empty trace");
    let _ = render_hexdump(bytes, trace, color);
}

/// Whether a lenient decode took exactly the strict decode's path: nothing
/// to forgive (no warning), the same trace and the same value or error. The
/// fields without bytes are then those the strict decode met, which
/// [`check_flag_fields`] has already compared, so the lenient decode's
/// comparison is made only when it went another way (most of the cost of
/// [`decode_bytes`] was this comparison, made twice on identical decodes).
fn same_path<T: PartialEq>(strict: &Traced<T>, lenient: &Traced<T>) -> bool {
    lenient.warnings.is_empty() && lenient.trace == strict.trace && lenient.result == strict.result
}

thread_local! {
    /// Trace and warning buffers of finished decodes, for the next ones:
    /// decode_bytes decodes every input a dozen times, and under
    /// AddressSanitizer each fresh buffer (and each growth of one) costs a
    /// recorded stack and new pages.
    static RECORDERS: RefCell<Vec<Recorder>> = const { RefCell::new(Vec::new()) };
}

/// [`decode_traced`] into buffers kept from an earlier decode; give them
/// back with [`recycle`].
fn traced<T: TlObject>(data: &[u8], options: DecodeOptions) -> Traced<T> {
    let mut recorder = RECORDERS.with(|pool| pool.borrow_mut().pop()).unwrap_or_default();
    let result = decode_traced_into(data, options, &mut recorder);
    Traced { result, warnings: recorder.warnings, trace: recorder.events }
}

/// Keep a decode's trace and warning buffers for [`traced`] (a few: a
/// decode holds at most two at a time, and [`check_flag_fields`] two more).
fn recycle<T>(traced: Traced<T>) {
    keep_buffers(Recorder { events: traced.trace, warnings: traced.warnings });
}

fn keep_buffers(recorder: Recorder) {
    RECORDERS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < 6 {
            pool.push(recorder);
        }
    });
}

/// The trace proper leaves out the fields without bytes; put back by
/// [`with_flag_fields`], they must be exactly those the decoder met, as a
/// [`FullTrace`] records them.
fn check_flag_fields<T: TlObject>(data: &[u8], options: DecodeOptions, traced: &Traced<T>) {
    let mut buffers = RECORDERS.with(|pool| pool.borrow_mut().pop()).unwrap_or_default();
    buffers.clear();
    let (_, full) = decode_with_sink::<T, _>(data, options, FullTrace(std::mem::take(&mut buffers.events)));
    // `derived` and `again` go into kept buffers too (this runs several
    // times per decode_bytes input).
    let mut derived = RECORDERS.with(|pool| pool.borrow_mut().pop()).unwrap_or_default();
    let error = traced.result.as_ref().err();
    with_flag_fields_into(&traced.trace, error, &mut derived.events);
    assert!(
        derived.events == full.0,
        "the fields derived from the trace differ from those the decoder met\n  derived: {:?}\n  met: {:?}",
        derived.events,
        full.0
    );
    // A trace that already holds them comes back unchanged. (When there was
    // nothing to add, `derived` is the trace itself and this is the
    // comparison just made: the second call is made only when it says more.)
    let mut kept = full.0;
    if derived.events != traced.trace {
        with_flag_fields_into(&derived.events, error, &mut kept);
        assert!(kept == derived.events, "with_flag_fields is not idempotent");
    }
    buffers.events = kept;
    keep_buffers(buffers);
    keep_buffers(derived);
}

/// A trace may only point inside the buffer, in order, and stay small: the
/// renderers index the buffer with these spans.
fn check_trace(bytes: &[u8], trace: &[TraceEvent]) {
    for ev in trace {
        let end = if ev.end == TraceEvent::OPEN { ev.start } else { ev.end };
        assert!(
            ev.start <= end && end <= bytes.len(),
            "trace event {ev:?} points outside the {} input bytes",
            bytes.len()
        );
    }
    // Each object costs at least its 4-byte id and records at most 15 events
    // (chatInviteExported: itself, flags and 14 fields); primitive fields cost
    // bytes too. So the trace never outgrows the input by more than this.
    let bound = 4 * bytes.len() + 16;
    assert!(
        trace.len() <= bound,
        "trace of {} events for {} input bytes: more than the decoder's design allows",
        trace.len(),
        bytes.len()
    );
}

/// The fuzz target `decode_bytes`: hostile bytes through every entry point.
///
/// - Strict decoding never panics; whatever it accepts re-encodes to exactly
///   the input and reads back from its JSON form.
/// - A rejected input's error points inside the input.
/// - Lenient decoding never panics; lenient and strict
///   agree wherever lenient had nothing to forgive; what lenient accepts
///   re-encodes canonically into something strict decoding accepts.
/// - The largest depth budget a user may ask for does not overflow the stack
///   (tried on input that nests past the default budget).
///
/// Rendering what was decoded is the [`render`] target's job.
/// - Nothing decoded holds more bytes than the input backs (the decoders
///   check a length against the remaining input before copying, so a
///   hostile length prefix cannot make them allocate).
pub fn decode_bytes(data: &[u8]) {
    let (nests_deeper, frame) = check_frame_decode(data, DecodeOptions::strict());
    // A larger budget changes nothing but where nesting stops, so it is
    // worth a second decode only for input that met the default one.
    if nests_deeper {
        let _ = check_frame_decode(data, DecodeOptions { lenient: false, max_depth: MAX_DEPTH_LIMIT });
    }
    // Every top-level type the library lets a caller decode on its own.
    let frame = frame.as_ref();
    check_decode_as::<ExportChatInvite>(data, frame, |f| if let Frame::Request(v) = f { Some(v) } else { None });
    check_decode_as::<ExportedChatInvite>(data, frame, |f| if let Frame::Answer(v) = f { Some(v) } else { None });
    check_decode_as::<RpcError>(data, frame, |f| if let Frame::Error(v) = f { Some(v) } else { None });
    check_decode_as::<InputPeer>(data, frame, |_| None);
    check_decode_as::<StarsSubscriptionPricing>(data, frame, |_| None);
    // The CLI's input sniffing (raw, hex or base64) sees the same bytes.
    if let Ok((bytes, _)) = decode_input(data, InputEncoding::Auto) {
        assert!(bytes.len() <= data.len(), "decoding hex or base64 text produced more bytes than the text");
    }
}

/// Strict and lenient decoding of `data` as a frame, with `strict`'s depth
/// budget, and all the checks of [`decode_bytes`]. Whether either decode
/// stopped at the depth budget, and the strict decode's result.
fn check_frame_decode(data: &[u8], strict: DecodeOptions) -> (bool, Result<Frame, DecodeError>) {
    let lenient = DecodeOptions { lenient: true, ..strict };
    let s = traced::<Frame>(data, strict);
    check_trace(data, &s.trace);
    check_flag_fields(data, strict, &s);
    assert!(s.warnings.is_empty(), "strict decoding produced warnings");
    match &s.result {
        Ok(frame) => {
            check_backed(frame, data.len());
            let bytes = frame.to_bytes().expect("encoding a decoded frame");
            assert!(
                bytes == data,
                "strict decode accepted an input that does not re-encode to itself: {frame:?}\n  \
                 input: {}\n  re-encoded: {}",
                hex(data),
                hex(&bytes)
            );
        }
        Err(e) => {
            assert!(e.offset <= data.len(), "error offset {} beyond the {}-byte input: {e}", e.offset, data.len());
            formats(e);
        }
    }
    // The untraced entry point must agree with the traced one.
    let plain = decode_top::<Frame>(data, strict);
    assert_eq!(plain.as_ref().ok(), s.result.as_ref().ok(), "decode_top and decode_traced disagree");

    let l = traced::<Frame>(data, lenient);
    check_trace(data, &l.trace);
    if !same_path(&s, &l) {
        check_flag_fields(data, lenient, &l);
    }
    for w in &l.warnings {
        formats(w);
        assert!(w.offset <= data.len(), "warning offset beyond input: {w}");
    }
    match (&s.result, &l.result) {
        (Ok(strict_frame), Ok(lenient_frame)) => {
            assert_eq!(strict_frame, lenient_frame, "strict and lenient disagree");
            assert!(l.warnings.is_empty(), "lenient warned about an input strict accepted: {:?}", l.warnings);
        }
        (Ok(_), Err(e)) => panic!("lenient rejected an input strict accepted: {e}"),
        (Err(e), Ok(_)) if l.warnings.is_empty() => {
            panic!("lenient accepted without a warning an input strict rejected: {e}")
        }
        (Err(strict_error), Ok(frame)) => {
            // Strict rejected it for something lenient forgave: the first
            // warning is that same problem at the same place.
            let first = &l.warnings[0];
            assert_eq!(
                (first.offset, &first.problem),
                (strict_error.offset, &strict_error.problem),
                "strict failed for another reason than lenient's first warning"
            );
            check_backed(frame, data.len());
            check_canonical(frame, strict);
        }
        (Err(_), Err(_)) => {}
    }
    let too_deep =
        |r: Option<&inspector::tl::DecodeError>| r.is_some_and(|e| matches!(e.problem, Problem::TooDeep { .. }));
    let deeper = too_deep(s.result.as_ref().err()) || too_deep(l.result.as_ref().err());
    keep_buffers(Recorder { events: s.trace, warnings: s.warnings });
    recycle(l);
    (deeper, s.result)
}

/// Format `value` (its `Display` must not panic) into a sink that keeps
/// nothing: the text is not looked at here, and a string per error was
/// an allocation per input.
fn formats(value: &impl std::fmt::Display) {
    struct Discard;
    impl std::fmt::Write for Discard {
        fn write_str(&mut self, _: &str) -> std::fmt::Result {
            Ok(())
        }
    }
    let _ = std::fmt::Write::write_fmt(&mut Discard, format_args!("{value}"));
}

/// A leniently decoded frame encodes canonically: the encoding strictly
/// decodes back to the same value (with the same depth budget: a frame
/// nested past the default budget was decoded under a larger one), unless
/// the value holds text that is not UTF-8, which strict decoding refuses.
fn check_canonical(frame: &Frame, strict: DecodeOptions) {
    let bytes = frame.to_bytes().expect("encoding a lenient frame");
    match decode_top::<Frame>(&bytes, strict) {
        Ok(back) => assert_eq!(&back, frame, "canonical re-encoding changed the value"),
        Err(e) if matches!(e.problem, Problem::InvalidUtf8 { .. }) => {}
        Err(e) => {
            panic!("the canonical encoding of a leniently decoded frame is not strict: {e}\n  bytes: {}", hex(&bytes))
        }
    }
}

/// Decode `data` as one top-level `T`, strictly and leniently. `frame` is
/// the strict decode of `data` as a frame and `part` the `T` in a frame
/// (`None` for a type a frame never holds).
///
/// Two cases need no traced decode, because their traced decodes would
/// repeat one already checked:
///
/// - The frame decode handed the bytes to `T`'s decoder (the frame reads
///   the first constructor id and decodes the rest as that type): decoding
///   as `T` is then that same decode, with the same trace, warnings and
///   error, which [`check_frame_decode`] checked in full, strictly and
///   leniently. Here the untraced decode as `T` must come out as the
///   frame's.
/// - `T` refuses the bytes at their first constructor id (most bytes are
///   not a `T` at all): nothing was decoded, the trace is empty. The
///   lenient decode must refuse them with the same error.
fn check_decode_as<T>(data: &[u8], frame: Result<&Frame, &DecodeError>, part: impl Fn(&Frame) -> Option<&T>)
where
    T: TlObject + TlJson + PartialEq + Debug + Clone,
{
    let plain = decode_top::<T>(data, DecodeOptions::strict());
    let same_as_frame = match (&frame, &plain) {
        (Ok(frame), Ok(value)) => part(frame).is_some_and(|v| v == value),
        // `expected` names the frame or `T`: equal errors come from `T`'s
        // decoder in both (or from the id before any decoder, <4 bytes).
        (Err(frame_error), Err(error)) => *frame_error == error,
        _ => false,
    };
    if let (Ok(frame), Ok(value)) = (&frame, &plain) {
        if let Some(v) = part(frame) {
            assert_eq!(v, value, "decoding as {} and as a frame disagree", T::TYPE_NAME);
        }
    }
    if same_as_frame {
        return;
    }
    if let Err(e) = &plain {
        if e.offset == 0 {
            // Refused at the constructor id (or the input is shorter than
            // one): nothing to forgive, so lenient refuses the same way.
            let lenient = decode_top::<T>(data, DecodeOptions::lenient());
            assert_eq!(lenient.as_ref().err(), Some(e), "strict and lenient refuse {} differently", T::TYPE_NAME);
            return;
        }
    }
    let s = traced::<T>(data, DecodeOptions::strict());
    check_trace(data, &s.trace);
    assert_eq!(
        s.result.as_ref().ok(),
        plain.as_ref().ok(),
        "decode_top and decode_traced disagree on {}",
        T::TYPE_NAME
    );
    // Refused at the constructor id, with nothing decoded, there are no
    // fields to derive (the frame's decode, checked on every input, covers
    // a refusal at the first id).
    let decoded_something = !s.trace.is_empty();
    if decoded_something {
        check_flag_fields(data, DecodeOptions::strict(), &s);
    }
    if let Ok(value) = &s.result {
        let bytes = value.to_bytes().expect("encoding a decoded value");
        assert!(
            bytes == data,
            "strict decode as {} accepted an input that does not re-encode to itself: {}",
            T::TYPE_NAME,
            hex(data)
        );
    }
    let l = traced::<T>(data, DecodeOptions::lenient());
    check_trace(data, &l.trace);
    if !same_path(&s, &l) && (decoded_something || !l.trace.is_empty()) {
        check_flag_fields(data, DecodeOptions::lenient(), &l);
    }
    if s.result.is_ok() {
        assert_eq!(s.result.as_ref().ok(), l.result.as_ref().ok(), "strict and lenient disagree on {}", T::TYPE_NAME);
    }
    recycle(s);
    recycle(l);
}

/// Every string a decoded frame holds was copied from the input, so their
/// total length is at most the input's: no allocation without input behind it.
fn check_backed(frame: &Frame, input_len: usize) {
    let total: usize = frame_strings(frame).iter().map(|s| s.len()).sum();
    assert!(total <= input_len, "decoded strings hold {total} bytes from a {input_len}-byte input");
}

fn frame_strings(frame: &Frame) -> Vec<&[u8]> {
    match frame {
        Frame::Request(r) => r.title.iter().map(|t| t.as_bytes()).collect(),
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            std::iter::once(&e.link).chain(e.title.iter()).map(|t| t.as_bytes()).collect()
        }
        Frame::Answer(ExportedChatInvite::PublicJoinRequests) => Vec::new(),
        Frame::Error(e) => vec![e.error_message.as_bytes()],
    }
}

/// Another TL implementation to compare with: how it encodes a frame and how
/// it decodes one. Implemented in the fuzz crate (see the module docs).
pub trait ReferenceCodec {
    /// The implementation's name, for messages.
    const NAME: &'static str;

    /// The reference encoding of `frame`, or `None` when the reference
    /// cannot hold the value at all (such as text that is not UTF-8 in an
    /// implementation whose strings are Rust `String`s).
    fn encode(frame: &Frame) -> Option<Vec<u8>>;

    /// Decode a whole frame (constructor id first) the reference's way,
    /// converted into this library's types, with the number of bytes the
    /// reference consumed. Text the reference decoded lossily comes back as
    /// the lossy text.
    fn decode(bytes: &[u8]) -> Result<(Frame, usize), String>;
}

/// The fuzz target `differential`: this library and `R` agree.
///
/// - An arbitrary frame (request, answer or error) encodes to the same bytes
///   in both, and `R` decodes our encoding back to the value.
/// - Arbitrary bytes that we strictly accept, `R` accepts too, consuming
///   exactly the whole input, with the same value.
/// - Bytes that `R` accepts but we strictly reject are rejected only for a
///   reason on the list of the reference's known laxities below.
pub fn differential<R: ReferenceCodec>(data: &[u8]) {
    let mut u = Unstructured::new(data);
    if let Ok(frame) = Frame::arbitrary(&mut u) {
        differential_value::<R>(&frame);
    }
    differential_bytes::<R>(data);
}

fn differential_value<R: ReferenceCodec>(frame: &Frame) {
    let Ok(ours) = frame.to_bytes() else {
        // Only a string of 16 MiB or more, which Arbitrary never draws.
        return;
    };
    let Some(theirs) = R::encode(frame) else {
        // Not representable in the reference (text that is not UTF-8);
        // Arbitrary never draws such text either.
        return;
    };
    if ours != theirs {
        same_bytes(&ours, &theirs, &format!("our encoding and {}'s differ for {frame:?}", R::NAME));
    }
    match R::decode(&ours) {
        Ok((back, used)) => {
            assert_eq!(&back, frame, "{} decodes our encoding differently", R::NAME);
            assert_eq!(used, ours.len(), "{} left bytes of our encoding", R::NAME);
        }
        Err(e) => panic!("{} rejected our encoding of {frame:?}: {e}\n  bytes: {}", R::NAME, hex(&ours)),
    }
}

/// Inputs nesting deeper than this are not given to the reference: a
/// decoder without a depth budget recurses as deep as the input goes, which
/// tests its stack rather than our agreement (and we reject them anyway, as
/// [`Problem::TooDeep`], on the list of known laxities).
const REFERENCE_MAX_DEPTH: usize = 200;

fn differential_bytes<R: ReferenceCodec>(data: &[u8]) {
    let shallow = DecodeOptions { lenient: true, max_depth: REFERENCE_MAX_DEPTH };
    if let Err(e) = decode_top::<Frame>(data, shallow) {
        if matches!(e.problem, Problem::TooDeep { .. }) {
            return;
        }
    }
    let ours = Frame::from_bytes(data);
    let theirs = R::decode(data);
    match (ours, theirs) {
        (Ok(frame), Ok((reference, used))) => {
            assert_eq!(frame, reference, "{} decodes {} differently", R::NAME, hex(data));
            assert_eq!(
                used,
                data.len(),
                "{} consumed {used} of the {} bytes we accepted: {}",
                R::NAME,
                data.len(),
                hex(data)
            );
        }
        (Ok(frame), Err(e)) => {
            panic!("{} rejects a frame we accept strictly: {e}\n  ours: {frame:?}\n  bytes: {}", R::NAME, hex(data))
        }
        (Err(_), Err(_)) => {}
        (Err(strict_error), Ok((reference, used))) => {
            if known_reference_laxity(&strict_error.problem) {
                check_lax_agreement::<R>(data, &reference, used);
                return;
            }
            panic!(
                "{} accepts ({used} of {} bytes) what we reject strictly, for a reason \
                 not on the list of its known laxities\n  our error: {strict_error}\n  \
                 theirs: {reference:?}\n  bytes: {}",
                R::NAME,
                data.len(),
                hex(data)
            )
        }
    }
}

/// Where `R` accepted what we reject strictly for one of its known
/// laxities, and our lenient decoding forgives the same things, both must
/// still read the same value and stop at the same byte.
fn check_lax_agreement<R: ReferenceCodec>(data: &[u8], reference: &Frame, used: usize) {
    let lenient = decode_traced::<Frame>(data, DecodeOptions::lenient());
    let Ok(ours) = lenient.result else {
        // Lenient still refuses a 0xff length byte and too deep nesting.
        return;
    };
    assert_eq!(
        lossy(&ours),
        *reference,
        "{} reads a value our lenient decoding reads differently: {}",
        R::NAME,
        hex(data)
    );
    let trailing = lenient
        .warnings
        .iter()
        .find_map(|w| match w.problem {
            Problem::TrailingBytes { count, .. } => Some(count),
            _ => None,
        })
        .unwrap_or(0);
    assert_eq!(
        used + trailing,
        data.len(),
        "{} stopped at byte {used}, our lenient decoding at {}: {}",
        R::NAME,
        data.len() - trailing,
        hex(data)
    );
}

/// `frame` with every string as a reference holding Rust `String`s sees it:
/// invalid UTF-8 replaced by U+FFFD.
fn lossy(frame: &Frame) -> Frame {
    let fix = |s: &mut TlString| {
        if s.as_str().is_none() {
            *s = TlString::from(String::from_utf8_lossy(s.as_bytes()).into_owned());
        }
    };
    let mut frame = frame.clone();
    match &mut frame {
        Frame::Request(r) => r.title.iter_mut().for_each(fix),
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            fix(&mut e.link);
            e.title.iter_mut().for_each(fix);
        }
        Frame::Answer(ExportedChatInvite::PublicJoinRequests) => {}
        Frame::Error(e) => fix(&mut e.error_message),
    }
    frame
}

/// What a TL decoder that checks less than protocol.md asks may accept and
/// we reject. Each is a deliberate strictness of ours, not a disagreement on
/// what the bytes mean; anything else that `R` accepts and we reject is a
/// finding.
fn known_reference_laxity(problem: &Problem) -> bool {
    matches!(
        problem,
        // It stops reading after the object and ignores what follows.
        Problem::TrailingBytes { .. }
        // It ignores flag bits the constructor does not define.
        | Problem::UndefinedFlags { .. }
        // It skips padding without looking at it.
        | Problem::NonZeroPadding { .. }
        // It takes the long length form for any length.
        | Problem::NonCanonicalLength { .. }
        // It turns invalid UTF-8 into U+FFFD instead of refusing it.
        | Problem::InvalidUtf8 { .. }
        // It reads a first byte of 0xff as a short length of 255.
        | Problem::StringPrefixFf
        // It has no depth budget: it nests as deep as the input goes.
        | Problem::TooDeep { .. }
    )
}

/// Panics with both sides in hex when `left` and `right` differ; the hex is
/// only formatted on failure (this runs on every fuzz input).
fn same_bytes(left: &[u8], right: &[u8], what: &str) {
    if left != right {
        assert_eq!(hex(left), hex(right), "{what}");
    }
}
