//! The catalogue of hostile inputs: every rule of strict decoding, each
//! with its exact error line pinned in snapshots/hostile_*.snap, and what
//! lenient decoding makes of the same bytes. Also: deep nesting never
//! overflows the stack, and a length prefix never makes the decoder
//! allocate memory the input does not back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;

use inspector::hex::parse as parse_hex;
use inspector::render::{hexdump, tree};
use inspector::tl::{decode_traced, DecodeOptions, Frame, Problem, TlObject, MAX_DEPTH_LIMIT};
use inspector_tests::matrix;

/// Counts the bytes allocated by the current thread, so a test can bound
/// what one decode allocates.
struct CountingAlloc;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocated_by(f: impl FnOnce()) -> usize {
    let before = ALLOCATED.with(Cell::get);
    f();
    ALLOCATED.with(Cell::get) - before
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn h(text: &str) -> Vec<u8> {
    parse_hex(text).unwrap()
}

/// Request header with the given flags and an inputPeerSelf peer.
fn req(flags: &str, rest: &str) -> Vec<u8> {
    h(&format!("90de55a4 {flags} c97ea07d {rest}"))
}

/// A request whose only optional field is a title written as `title_hex`.
fn titled(title_hex: &str) -> Vec<u8> {
    req("10000000", title_hex)
}

/// `n` nested inputPeerUserFromMessage around an inputPeerEmpty: with the
/// request itself, `n + 2` levels of objects.
fn nested(n: usize) -> Vec<u8> {
    let mut b = h("90de55a4 00000000");
    for _ in 0..n {
        b.extend(h("1c0a7ba8"));
    }
    b.extend(h("ea183b7f"));
    for _ in 0..n {
        b.extend(h("07000000 0800000000000000"));
    }
    b
}

/// Whether lenient decoding is expected to get through this problem.
fn forgivable(p: &Problem) -> bool {
    matches!(
        p,
        Problem::UndefinedFlags { .. }
            | Problem::NonCanonicalLength { .. }
            | Problem::NonZeroPadding { .. }
            | Problem::InvalidUtf8 { .. }
            | Problem::TrailingBytes { .. }
    )
}

/// (name, bytes) of every hostile input but the truncations.
fn catalogue() -> Vec<(&'static str, Vec<u8>)> {
    let long_title = {
        // A 300-byte title in the long form, then cut inside its bytes.
        let mut b = titled("fe2c0100");
        b.extend(vec![b'a'; 100]);
        b
    };
    vec![
        ("empty input", vec![]),
        ("three bytes", h("90de55")),
        ("unknown top-level constructor", h("efbeadde 00000000")),
        ("inputPeerSelf where a frame must stand", h("c97ea07d")),
        ("rpc_result where a frame must stand", h("016d5cf3 0000000000000000 c97ea07d")),
        ("vector where a frame must stand", h("15c4b51c 00000000")),
        ("unknown InputPeer constructor", req("00000000", "").into_iter().take(8).chain(h("efbeadde")).collect()),
        ("boolTrue where an InputPeer must stand", h("90de55a4 00000000 b5757299")),
        ("vector where an InputPeer must stand", h("90de55a4 00000000 15c4b51c 00000000")),
        (
            "starsSubscriptionPricing where an InputPeer must stand",
            h("90de55a4 00000000 586d4105 00000000 0000000000000000"),
        ),
        ("exportChatInvite where an InputPeer must stand", h("90de55a4 00000000 90de55a4 00000000 c97ea07d")),
        ("unknown constructor in peer.peer", h("90de55a4 00000000 40082abd efbeadde")),
        ("boolFalse in peer.peer.peer", h("90de55a4 00000000 40082abd 1c0a7ba8 379779bc")),
        ("chatInviteExported where starsSubscriptionPricing must stand", req("20000000", "96bd2ca2 00000000")),
        ("inputPeerEmpty where starsSubscriptionPricing must stand", req("20000000", "ea183b7f")),
        ("undefined flag bit 6 of a request", req("40000000", "")),
        ("undefined flag bit 31 of a request", req("00000080", "")),
        ("undefined flag bits 6 and 7 with defined ones", req("c9000000", "00000000")),
        ("undefined flag bit 11 of chatInviteExported", h("96bd2ca2 00080000 00000000 0000000000000000 00000000")),
        ("string length byte 0xff", titled("ff616263")),
        ("long length form for 1 byte", titled("fe010000 61000000")),
        ("long length form for 253 bytes", {
            let mut b = titled("fefd0000");
            b.extend(vec![b'a'; 253]);
            b.extend([0, 0, 0]);
            b
        }),
        ("non-zero padding after a 1-byte string", titled("01 61 00ff")),
        ("non-zero padding after a 5-byte string", titled("05 6162636465 0100")),
        ("invalid UTF-8: lone continuation byte", titled("01 80 0000")),
        ("invalid UTF-8: c3 28", titled("02 c328 00")),
        ("invalid UTF-8: overlong slash c0 af", titled("02 c0af 00")),
        ("invalid UTF-8: overlong three-byte e0 80 af", titled("03 e080af")),
        ("invalid UTF-8: encoded surrogate ed a0 80", titled("03 eda080")),
        ("invalid UTF-8: cut multi-byte character", titled("02 e68b 00")),
        ("invalid UTF-8: byte 0xff", titled("01 ff 0000")),
        ("invalid UTF-8 in rpc_error message", h("19ca4421 90010000 02 c328 00")),
        ("string length beyond the input", titled("10 616263")),
        ("long string length beyond the input", titled("feffffff 61626364")),
        ("long string cut inside its bytes", long_title),
        ("string cut inside its padding", titled("05 6162636465 00")),
        ("string cut inside its long length", titled("fe2c")),
        ("one trailing byte", h("90de55a4 00000000 c97ea07d 00")),
        ("four trailing bytes", h("90de55a4 00000000 c97ea07d c97ea07d")),
        ("trailing bytes after chatInvitePublicJoinRequests", h("b77a10ed 00")),
        ("65 levels of objects (budget 64)", nested(63)),
        ("5000 nested peers", nested(5000)),
        ("64 levels of objects (budget 64) then a bad id", {
            let mut b = nested(62);
            b[8 + 62 * 4] = 0xee;
            b
        }),
    ]
}

fn describe(bytes: &[u8], options: DecodeOptions) -> (String, Option<Problem>) {
    let traced = decode_traced::<Frame>(bytes, options);
    let mut out = String::new();
    for w in &traced.warnings {
        writeln!(out, "  {w}").unwrap();
    }
    match traced.result {
        Ok(_) => {
            writeln!(out, "  decoded").unwrap();
            (out, None)
        }
        Err(e) => {
            writeln!(out, "  {e}").unwrap();
            (out, Some(e.into_detail().problem))
        }
    }
}

#[test]
fn every_hostile_input_is_rejected_with_its_own_error() {
    let mut strict = String::new();
    let mut lenient = String::new();
    for (name, bytes) in catalogue() {
        let (text, problem) = describe(&bytes, DecodeOptions::strict());
        let problem = problem.unwrap_or_else(|| panic!("{name}: strict decoding accepted it"));
        writeln!(strict, "{name}\n{text}").unwrap();
        assert!(!text.contains('\n') || text.lines().count() == 1, "{name}: error is not one line");

        let (text, lenient_problem) = describe(&bytes, DecodeOptions::lenient());
        writeln!(lenient, "{name}\n{text}").unwrap();
        if forgivable(&problem) {
            assert!(text.contains("warning at byte"), "{name}: lenient gave no warning");
        } else {
            assert_eq!(lenient_problem.as_ref(), Some(&problem), "{name}: lenient forgave what it must not");
        }
        // Renderers must cope with whatever was decoded, partial or not.
        let traced = decode_traced::<Frame>(&bytes, DecodeOptions::lenient());
        let _ = tree::render_tree(&bytes, &traced.trace, true);
        let _ = hexdump::render_hexdump(&bytes, &traced.trace, false);
    }
    snapshot!("hostile_strict", strict);
    snapshot!("hostile_lenient", lenient);
}

#[test]
fn truncation_at_every_offset_of_full_frames() {
    let mut out = String::new();
    let frames: Vec<(&str, Vec<u8>)> = vec![
        ("request with every field", matrix::full_request().to_bytes().unwrap()),
        (
            "chatInviteExported with every field",
            Frame::Answer(inspector::tl::ExportedChatInvite::Exported(matrix::answer(0x7ff))).to_bytes().unwrap(),
        ),
    ];
    for (name, bytes) in frames {
        writeln!(out, "## {name}: {} bytes", bytes.len()).unwrap();
        for cut in 0..bytes.len() {
            let traced = decode_traced::<Frame>(&bytes[..cut], DecodeOptions::strict());
            let e = traced.result.expect_err("a cut frame decoded");
            assert!(matches!(e.problem, Problem::Truncated { .. } | Problem::LengthExceedsInput { .. }), "{e}");
            // Lenient decoding must not forgive truncation either.
            assert_eq!(decode_traced::<Frame>(&bytes[..cut], DecodeOptions::lenient()).result.unwrap_err(), e);
            writeln!(out, "cut at {cut:3}: {e}").unwrap();
        }
    }
    snapshot!("hostile_truncation", out);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for n in [63, 64, 1000, 5000, 100_000] {
        let e = Frame::from_bytes(&nested(n)).unwrap_err();
        assert_eq!(e.problem, Problem::TooDeep { max_depth: 64 }, "{n}");
    }
    // 62 nested peers, the innermost peer and the request are exactly 64 levels.
    assert!(Frame::from_bytes(&nested(62)).is_ok());
}

#[test]
fn the_largest_depth_budget_fits_a_test_threads_stack() {
    // Test threads have 2 MiB of stack; this runs unoptimized in `cargo test`.
    let options = DecodeOptions { lenient: false, max_depth: MAX_DEPTH_LIMIT };
    let ok = nested(MAX_DEPTH_LIMIT - 2);
    let traced = decode_traced::<Frame>(&ok, options);
    let frame = traced.result.expect("within the largest budget");
    assert_eq!(frame.to_bytes().unwrap(), ok);
    let _ = tree::render_tree(&ok, &traced.trace, false);
    let deeper = decode_traced::<Frame>(&nested(5000), options).result.unwrap_err();
    assert_eq!(deeper.problem, Problem::TooDeep { max_depth: MAX_DEPTH_LIMIT });
}

#[test]
fn length_prefixes_do_not_allocate_what_the_input_lacks() {
    // A 16 MiB string claimed by 12 bytes of input, and a 16 MiB long string
    // whose bytes stop early: either way nothing near 16 MiB is allocated.
    let claims = [titled("feffffff 61626364"), titled("feffffff")];
    for bytes in claims {
        let mut result = None;
        let used = allocated_by(|| result = Some(Frame::from_bytes(&bytes)));
        assert!(result.unwrap().is_err());
        assert!(used < 4096, "decoding {} bytes allocated {used} bytes", bytes.len());
    }
    // A real long string allocates about its own size.
    let mut ok = titled("fe2c0100");
    ok.extend(vec![b'a'; 300]);
    let used = allocated_by(|| assert!(Frame::from_bytes(&ok).is_ok()));
    assert!(used < 4096, "{used}");
}

#[test]
fn the_schema_driven_decoder_fails_on_each_hostile_input_exactly_as_the_typed_one() {
    let mut inputs = catalogue();
    inputs.push(("nested 70 deep", nested(70)));
    for (name, bytes) in inputs {
        for options in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            if let Err(e) = inspector_tests::schema_differential::agree(&bytes, options) {
                panic!("{name} ({options:?}): {e}");
            }
        }
    }
}

#[test]
fn vector_counts_do_not_allocate_what_the_input_lacks() {
    use inspector::tl::dynamic::Schema;
    let schema = Schema::builtin();
    // msgs_ack with a count of 2^31 - 1 longs, and with 100 000 longs but
    // only one present; then a bare vector (msg_container) claiming as much.
    let claims = [
        h("59b4d662 15c4b51c ffffff7f 0100000000000000"),
        h("59b4d662 15c4b51c a0860100 0100000000000000"),
        h("dcf8f173 ffffff7f"),
    ];
    for bytes in claims {
        let mut result = None;
        let used = allocated_by(|| result = Some(schema.decode(&bytes, DecodeOptions::strict())));
        assert!(result.unwrap().is_err());
        assert!(used < 4096, "decoding {} bytes allocated {used} bytes", bytes.len());
    }
}
