//! Codec speed against grammers-tl-types, the same frames in the same
//! process: strict decode (plain, and recording the span of every field as
//! `inspector decode` does), and encode. After criterion's own report, a
//! table of medians and ratios (ours / grammers) is printed, and one of the
//! schema-driven decoder (`inspector::tl::dynamic`, with the built-in
//! schema) against the typed decoder on the same frames (goal: within 3×).
//! Also the service layer's unwrapping of a message body: a request inside
//! invokeWithLayer and initConnection as clients send it, and a hostile
//! chain of initConnection wrappers as deep as the largest depth budget
//! (1.8 ms a message while every level copied the wrappers outside it,
//! 44 µs since, in `cargo bench -- --quick` here).
//!
//! Run: `cargo bench --bench codec` (add `-- --quick` for a fast look).

use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use inspector::tl::dynamic::{Expect, Schema};
use inspector::tl::NoTrace;
use inspector::tl::{
    decode_traced_into, DecodeOptions, ExportChatInvite, ExportedChatInvite, InputPeer, Recorder,
    StarsSubscriptionPricing, TlObject, TlString,
};
use inspector_tests::{grammers, matrix};

fn minimal() -> ExportChatInvite {
    ExportChatInvite::new(InputPeer::PeerSelf)
}

fn typical() -> ExportChatInvite {
    ExportChatInvite {
        request_needed: true,
        title: Some(TlString::from("Team invite")),
        subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
        ..ExportChatInvite::new(InputPeer::Channel { channel_id: 1_234_567_890, access_hash: -42 })
    }
}

fn maximal() -> ExportChatInvite {
    let peer = InputPeer::UserFromMessage {
        peer: Box::new(InputPeer::ChannelFromMessage {
            peer: Box::new(InputPeer::User { user_id: 1, access_hash: 2 }),
            msg_id: 3,
            channel_id: 4,
        }),
        msg_id: 5,
        user_id: 6,
    };
    ExportChatInvite {
        legacy_revoke_permanent: true,
        request_needed: true,
        expire_date: Some(1_800_000_000),
        usage_limit: Some(10),
        title: Some(TlString::from("x".repeat(255))),
        subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 250 }),
        ..ExportChatInvite::new(peer)
    }
}

/// The 68-byte worked example of protocol.md.
fn worked_example() -> ExportChatInvite {
    ExportChatInvite {
        request_needed: true,
        expire_date: Some(100),
        title: Some(TlString::from("t")),
        subscription_pricing: Some(StarsSubscriptionPricing { period: 2_592_000, amount: 5 }),
        ..ExportChatInvite::new(InputPeer::ChannelFromMessage {
            peer: Box::new(InputPeer::User { user_id: 1, access_hash: 2 }),
            msg_id: 3,
            channel_id: 4,
        })
    }
}

/// A named way to build a request.
type Sample = (&'static str, fn() -> ExportChatInvite);

const REQUESTS: [Sample; 4] =
    [("minimal", minimal), ("typical", typical), ("maximal", maximal), ("worked_example", worked_example)];

fn bench_requests(c: &mut Criterion) {
    for (name, make) in REQUESTS {
        let value = make();
        let bytes = value.to_bytes().unwrap();
        assert_eq!(bytes, grammers::encode_request(&value));
        let mut g = c.benchmark_group(format!("request_{name}"));
        g.bench_function("ours_decode", |b| b.iter(|| ExportChatInvite::from_bytes(black_box(&bytes)).unwrap()));
        g.bench_function("ours_decode_traced", |b| traced_bench::<ExportChatInvite>(b, &bytes));
        schema_benches(&mut g, &bytes);
        g.bench_function("grammers_decode", |b| b.iter(|| grammers::decode_request_raw(black_box(&bytes)).unwrap()));
        g.bench_function("ours_encode", |b| b.iter(|| black_box(&value).to_bytes().unwrap()));
        let theirs = grammers::request_to(&value);
        g.bench_function("grammers_encode", |b| b.iter(|| grammers::to_bytes(black_box(&theirs))));
        g.finish();
    }
}

/// The span-recording decode as a stream decoder runs it: one recorder's
/// allocations serve every frame.
fn traced_bench<T: TlObject>(b: &mut criterion::Bencher<'_>, bytes: &[u8]) {
    let mut recorder = Recorder::default();
    b.iter(|| decode_traced_into::<T>(black_box(bytes), DecodeOptions::strict(), &mut recorder).is_ok())
}

/// The schema-driven decoder on the same frame: plain and span-recording.
fn schema_benches(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: &[u8]) {
    let schema = Schema::builtin();
    let opts = DecodeOptions::strict();
    g.bench_function("schema_decode", |b| {
        b.iter(|| schema.decode_with_sink(black_box(bytes), &Expect::Any, opts, NoTrace).0.unwrap())
    });
    let mut recorder = Recorder::default();
    g.bench_function("schema_decode_traced", |b| {
        b.iter(|| schema.decode_traced(black_box(bytes), opts, &mut recorder).is_ok())
    });
}

fn bench_answer(c: &mut Criterion) {
    let value = ExportedChatInvite::Exported(matrix::answer(0x7ff));
    let bytes = value.to_bytes().unwrap();
    let mut g = c.benchmark_group("answer_chatInviteExported");
    g.bench_function("ours_decode", |b| b.iter(|| ExportedChatInvite::from_bytes(black_box(&bytes)).unwrap()));
    g.bench_function("ours_decode_traced", |b| traced_bench::<ExportedChatInvite>(b, &bytes));
    schema_benches(&mut g, &bytes);
    g.bench_function("grammers_decode", |b| b.iter(|| grammers::decode_answer_raw(black_box(&bytes)).unwrap()));
    g.bench_function("ours_encode", |b| b.iter(|| black_box(&value).to_bytes().unwrap()));
    let theirs = grammers::answer_to(&value);
    g.bench_function("grammers_encode", |b| b.iter(|| grammers::to_bytes(black_box(&theirs))));
    g.finish();
}

/// Criterion's median estimate of one benchmark, in nanoseconds.
fn median_ns(group: &str, bench: &str) -> Option<f64> {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()?
        .join("criterion")
        .join(group)
        .join(bench)
        .join("new/estimates.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn print_ratios() {
    println!(
        "\n{:<28} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "frame", "decode", "traced", "grammers", "ratio", "t.ratio", "encode", "ratio"
    );
    let groups = REQUESTS.iter().map(|(n, _)| format!("request_{n}")).chain(["answer_chatInviteExported".to_string()]);
    for group in groups {
        let get = |b| median_ns(&group, b).unwrap_or(f64::NAN);
        let (d, t, gd) = (get("ours_decode"), get("ours_decode_traced"), get("grammers_decode"));
        let (e, ge) = (get("ours_encode"), get("grammers_encode"));
        println!(
            "{group:<28} {d:>8.1}ns {t:>8.1}ns {gd:>8.1}ns {:>8.2} {:>8.2} {e:>8.1}ns {:>8.2}  (grammers encode {ge:.1}ns)",
            d / gd,
            t / gd,
            e / ge
        );
    }
    println!("ratio = ours / grammers (below 1.0: faster than grammers); t.ratio uses the span-recording decode.");
    println!("\n{:<28} {:>10} {:>10} {:>8} {:>8}", "frame", "schema", "s.traced", "ratio", "t.ratio");
    let groups = REQUESTS.iter().map(|(n, _)| format!("request_{n}")).chain(["answer_chatInviteExported".to_string()]);
    for group in groups {
        let get = |b| median_ns(&group, b).unwrap_or(f64::NAN);
        let (d, t, sd, st) =
            (get("ours_decode"), get("ours_decode_traced"), get("schema_decode"), get("schema_decode_traced"));
        println!("{group:<28} {sd:>8.1}ns {st:>8.1}ns {:>8.2} {:>8.2}", sd / d, st / t);
    }
    println!("ratio = schema-driven / typed decoder (goal: at most 3); t.ratio compares the span-recording decodes.");
}

/// `unwrap_message` on a request as a client first sends it, and on a
/// chain of invokeWithLayer + initConnection pairs as deep as
/// [`MAX_DEPTH_LIMIT`](inspector::tl::MAX_DEPTH_LIMIT) allows.
fn bench_service(c: &mut Criterion) {
    use inspector::service::{unwrap_message, ServiceOptions};
    use inspector_tests::fixtures::layer_init;
    let request = typical().to_bytes().unwrap();
    let first = layer_init(&request);
    let mut deep = request;
    for _ in 0..inspector::tl::MAX_DEPTH_LIMIT / 2 - 1 {
        deep = layer_init(&deep);
    }
    let options = ServiceOptions { max_depth: inspector::tl::MAX_DEPTH_LIMIT, ..ServiceOptions::default() };
    let mut g = c.benchmark_group("service_unwrap");
    g.bench_function("layer_init_request", |b| b.iter(|| unwrap_message(black_box(&first), 1, 1, options)));
    g.bench_function("init_connection_chain_at_budget", |b| b.iter(|| unwrap_message(black_box(&deep), 1, 1, options)));
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_requests(&mut c);
    bench_answer(&mut c);
    bench_service(&mut c);
    c.final_summary();
    print_ratios();
}
