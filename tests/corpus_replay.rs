//! Replays every committed fuzz input (the seeds in `corpus/<target>/` and
//! the findings in `corpus/regressions/<target>/`) through the same
//! `inspector_tests::fuzzing` functions the fuzz targets call, under stable
//! `cargo test`, naming each file that fails.
//!
//! Also ties the seeds to the snapshot matrix: the `matrix-*` seeds must be
//! exactly the current encodings of the matrix values they are named after,
//! so the fuzzer starts from the same bytes the snapshots pin.
//!
//! `regenerate_seed_corpus` and `regenerate_pipeline_seeds` (ignored) are
//! how the seeds were made:
//! `CORPUS_WRITE=1 cargo test --test corpus_replay -- --ignored`; they were
//! then minimized with `cargo fuzz cmin` on a copy, keeping the original
//! (named) files whose contents cmin kept.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use inspector::tl::{
    ExportChatInvite, ExportedChatInvite, Frame, InputPeer, RpcError, StarsSubscriptionPricing, TlObject, TlString,
};
use inspector_tests::rng::XorShift;
use inspector_tests::{fixtures, matrix};

/// The differential target's reference codec, compiled from the fuzz crate's
/// own source so both run the very same comparison.
#[path = "../fuzz/src/reference.rs"]
mod reference;

type Target = fn(&[u8]);

/// Every fuzz target by name, and a test replaying its corpus
/// (`<name>::corpus_replays`), from one list.
macro_rules! replayed_targets {
    ($($name:ident => $target:expr),* $(,)?) => {
        fn targets() -> Vec<(&'static str, Target)> {
            vec![$((stringify!($name), $target)),*]
        }

        $(
            mod $name {
                #[test]
                fn corpus_replays() {
                    super::replay(stringify!($name), $target);
                }
            }
        )*
    };
}

replayed_targets! {
    roundtrip => inspector_tests::fuzzing::roundtrip,
    roundtrip_result => inspector_tests::fuzzing::roundtrip_result,
    decode_bytes => inspector_tests::fuzzing::decode_bytes,
    render => inspector_tests::fuzzing::render,
    json => inspector_tests::fuzzing::json,
    differential => inspector_tests::fuzzing::differential::<crate::reference::Grammers>,
    capture_file => inspector_tests::fuzzing::capture_file,
    tcp_reassembly => inspector_tests::fuzzing::tcp_reassembly,
    transport => inspector_tests::fuzzing::transport,
    envelope => inspector_tests::fuzzing::envelope,
    service => inspector_tests::fuzzing::service,
    // The corpus is what fuzzing kept: every costly check on every input
    // (`Checks`), not the fuzzing loop's sample.
    pcap_pipeline => |data| inspector_tests::fuzzing::pcap_pipeline_with(data, inspector_tests::fuzzing::Checks::All),
    conversation => |data| inspector_tests::fuzzing::conversation_with(data, inspector_tests::fuzzing::Checks::All),
    schema_differential => inspector_tests::schema_differential::schema_differential,
    faketls => inspector_tests::faketls_props::faketls,
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The files of `dir`, sorted, without dotfiles (`.gitkeep`). A missing
/// folder fails the test: a clone without the corpus must not replay nothing.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Run `target` on `data` on a thread with libFuzzer's main-thread stack
/// (8 MiB), so the replay judges an input the way the fuzzer did.
fn run_like_the_fuzzer(target: Target, data: Vec<u8>) -> Result<(), String> {
    let handle = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || target(&data))
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    handle.join().map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into())
    })
}

fn replay(target_name: &str, target: Target) {
    let root = corpus_root();
    let dirs = [root.join(target_name), root.join("regressions").join(target_name)];
    let mut count = 0;
    let mut failures = Vec::new();
    for dir in &dirs {
        for file in inputs(dir) {
            let data = fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            count += 1;
            if let Err(message) = run_like_the_fuzzer(target, data) {
                failures.push(format!("{}: {message}", file.strip_prefix(&root).unwrap_or(&file).display()));
            }
        }
    }
    assert!(count > 0, "no seed inputs for the fuzz target {target_name} in {}", dirs[0].display());
    assert!(
        failures.is_empty(),
        "{} of {count} corpus files fail the fuzz target {target_name}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_fuzz_target_has_a_replay() {
    let on_disk: Vec<String> = inputs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let replayed: Vec<&str> = targets().iter().map(|t| t.0).collect();
    for name in &on_disk {
        assert!(replayed.contains(&name.as_str()), "fuzz target {name} has no replay in tests/corpus_replay.rs");
        assert!(
            corpus_root().join("regressions").join(name).is_dir(),
            "corpus/regressions/{name}/ is missing (keep a .gitkeep in it)"
        );
    }
}

/// The matrix values that seed the frame-reading targets, by seed file name.
fn matrix_seeds() -> BTreeMap<String, Frame> {
    let mut seeds = BTreeMap::new();
    let peers = matrix::peers();
    // Every flag combination once, each with another peer of the matrix...
    for mask in 0..64u32 {
        let (peer_name, peer) = &peers[mask as usize % peers.len()];
        let name = format!("matrix-request-flags{mask:02x}-{}", slug(peer_name));
        seeds.insert(name, Frame::Request(matrix::request(mask, peer.clone())));
    }
    // ...and every peer with every field present.
    for (peer_name, peer) in &peers {
        let name = format!("matrix-request-flags3f-{}", slug(peer_name));
        seeds.insert(name, Frame::Request(matrix::request(63, peer.clone())));
    }
    for (label, frame) in matrix::snapshot_answers() {
        seeds.insert(format!("matrix-answer-{}", slug(&label)), frame);
    }
    seeds
}

/// A file name from a matrix label: `channel_from_message(user)` becomes
/// `channel_from_message-user`.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[test]
fn matrix_seeds_are_the_current_encodings() {
    let seeds = matrix_seeds();
    let mut checked = 0;
    for target in ["decode_bytes", "differential", "render", "json"] {
        for file in inputs(&corpus_root().join(target)) {
            let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if !name.starts_with("matrix-") {
                continue;
            }
            let Some(frame) = seeds.get(&name) else {
                panic!("{target}/{name}: no matrix value has this name (regenerate the seeds)");
            };
            let encoded = frame.to_bytes().expect("matrix values encode");
            let stored = fs::read(&file).expect("readable seed");
            assert_eq!(
                inspector::hex::encode(&stored),
                inspector::hex::encode(&encoded),
                "{target}/{name} is not the current encoding of its matrix value"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no matrix-* seeds found");
}

/// The worked example of protocol.md, section 2.
const WORKED_EXAMPLE: &str = "90de55a4 39000000 40082abd 4ca5e8dd 0100000000000000 0200000000000000 \
     03000000 0400000000000000 64000000 01740000 586d4105 008d2700 0500000000000000";

fn h(text: &str) -> Vec<u8> {
    inspector::hex::parse(text).expect("valid hex in a seed")
}

/// A request with `flags` (hex, 4 bytes) around an inputPeerEmpty and `rest`.
fn request_with(flags: &str, rest: &str) -> Vec<u8> {
    h(&format!("90de55a4 {flags} ea183b7f {rest}"))
}

/// Hostile and boundary frames, by seed name.
fn hostile_seeds() -> Vec<(String, Vec<u8>)> {
    let worked = h(WORKED_EXAMPLE);
    let mut out = vec![("worked-example".to_string(), worked.clone())];
    for cut in [0, 1, 3, 4, 7, 8, 12, 20, 39, 52, 56, 60, 67] {
        out.push((format!("worked-example-cut{cut}"), worked[..cut].to_vec()));
    }
    let mut trailing = worked.clone();
    trailing.extend_from_slice(&[0, 0, 0, 0]);
    out.push(("trailing-bytes".into(), trailing));
    out.push(("undefined-flag-bit6".into(), request_with("40000000", "")));
    out.push(("undefined-flag-bit31".into(), request_with("00000080", "")));
    out.push(("title-nonzero-padding".into(), request_with("10000000", "01740001")));
    out.push(("title-long-form-short".into(), request_with("10000000", "fe010000 74000000")));
    out.push(("title-prefix-ff".into(), request_with("10000000", "ff010000 74000000")));
    out.push(("title-invalid-utf8".into(), request_with("10000000", "02c32800")));
    out.push(("title-truncated-utf8".into(), request_with("10000000", "02e28200")));
    out.push(("title-length-beyond-input".into(), request_with("10000000", "fdaabbcc")));
    out.push(("title-max-length-unbacked".into(), request_with("10000000", "feffffff")));
    out.push(("peer-wrong-type".into(), h("90de55a4 00000000 586d4105")));
    out.push(("peer-unknown-ctor".into(), h("90de55a4 00000000 efbeadde")));
    out.push(("unknown-frame".into(), h("efbeadde 00000000")));
    out.push(("vector-id-as-frame".into(), h("15c4b51c 01000000 90de55a4")));
    // A title of each length class boundary, and multi-byte UTF-8.
    for len in [0usize, 1, 253, 254, 255, 1200, 4000] {
        let title = TlString::from("x".repeat(len));
        out.push((format!("title-len{len}"), titled(title)));
    }
    out.push(("title-multibyte".into(), titled(TlString::from("招待 ссылка 🔗é"))));
    for len in [253usize, 254, 1200] {
        let error = RpcError { error_code: 420, error_message: TlString::from("F".repeat(len)) };
        out.push((format!("rpc-error-len{len}"), Frame::Error(error).to_bytes().expect("encodable")));
    }
    // Nesting: at the default budget's edge, past it, and far past the
    // largest budget (only ids: the input ends inside the innermost peer).
    for depth in [63usize, 64, 200] {
        out.push((format!("nested-peers-{depth}"), nested_request(depth)));
    }
    out.push(("nested-ids-1100".into(), {
        let mut b = h("90de55a4 00000000");
        for _ in 0..1100 {
            b.extend_from_slice(&h("1c0a7ba8"));
        }
        b
    }));
    out
}

fn titled(title: TlString) -> Vec<u8> {
    let mut r = ExportChatInvite::new(InputPeer::PeerSelf);
    r.title = Some(title);
    r.to_bytes().expect("encodable")
}

/// A request whose peer nests `depth` peers deep (frame depth `depth + 1`).
fn nested_request(depth: usize) -> Vec<u8> {
    let mut peer = InputPeer::Chat { chat_id: 1 };
    for i in 1..depth {
        peer = if i % 2 == 0 {
            InputPeer::UserFromMessage { peer: Box::new(peer), msg_id: i as i32, user_id: 2 }
        } else {
            InputPeer::ChannelFromMessage { peer: Box::new(peer), msg_id: i as i32, channel_id: 3 }
        };
    }
    ExportChatInvite::new(peer).to_bytes().expect("encodable")
}

/// Unstructured seeds for the value targets: the first random input that
/// draws each key (flag combination, answer kind) of interest.
fn value_seeds(key: impl Fn(&[u8]) -> Option<String>, wanted: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut rng = XorShift(seed);
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for _ in 0..200_000 {
        let len = 16 + (rng.next_u64() % 240) as usize;
        let data = rng.bytes(len);
        if let Some(k) = key(&data) {
            found.entry(k).or_insert(data);
        }
        if found.len() >= wanted {
            break;
        }
    }
    found.into_iter().collect()
}

fn request_key(data: &[u8]) -> Option<String> {
    let r = ExportChatInvite::arbitrary(&mut Unstructured::new(data)).ok()?;
    Some(format!("arbitrary-request-flags{:02x}", r.flags()))
}

fn result_key(data: &[u8]) -> Option<String> {
    let mut u = Unstructured::new(data);
    if bool::arbitrary(&mut u).ok()? {
        RpcError::arbitrary(&mut u).ok()?;
        return Some("arbitrary-rpc-error".into());
    }
    Some(match ExportedChatInvite::arbitrary(&mut u).ok()? {
        ExportedChatInvite::PublicJoinRequests => "arbitrary-public-join-requests".into(),
        // One seed per number of optional fields present (0..=11).
        ExportedChatInvite::Exported(e) => format!("arbitrary-exported-{:02}-fields", e.flags().count_ones()),
    })
}

fn differential_key(data: &[u8]) -> Option<String> {
    Some(match Frame::arbitrary(&mut Unstructured::new(data)).ok()? {
        Frame::Request(r) => format!("arbitrary-request-flags{:02x}", r.flags()),
        Frame::Answer(ExportedChatInvite::PublicJoinRequests) => "arbitrary-public-join-requests".into(),
        Frame::Answer(ExportedChatInvite::Exported(e)) => {
            format!("arbitrary-exported-{:02}-fields", e.flags().count_ones())
        }
        Frame::Error(_) => "arbitrary-rpc-error".into(),
    })
}

#[test]
#[ignore = "writes corpus/; run with CORPUS_WRITE=1 to regenerate the seeds"]
fn regenerate_seed_corpus() {
    if std::env::var_os("CORPUS_WRITE").is_none() {
        eprintln!("set CORPUS_WRITE=1 to write the seed corpus");
        return;
    }
    let root = corpus_root();
    let mut frames: Vec<(String, Vec<u8>)> =
        matrix_seeds().into_iter().map(|(name, frame)| (name, frame.to_bytes().expect("encodable"))).collect();
    frames.extend(hostile_seeds());
    let pricing_only = StarsSubscriptionPricing { period: 2_592_000, amount: 5 };
    frames.push(("bare-pricing-object".into(), pricing_only.to_bytes().expect("encodable")));

    let write = |target: &str, seeds: &[(String, Vec<u8>)]| {
        let dir = root.join(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        for (name, data) in seeds {
            fs::write(dir.join(name), data).expect("seed written");
        }
        let regressions = root.join("regressions").join(target);
        fs::create_dir_all(&regressions).expect("regressions dir");
        fs::write(regressions.join(".gitkeep"), b"").expect(".gitkeep written");
    };
    write("decode_bytes", &frames);
    // The differential target reads its input both as a value and as a frame.
    let mut differential = frames.clone();
    differential.extend(value_seeds(differential_key, 80, 0xd1ff));
    write("differential", &differential);
    // The render target reads its input both as a frame and as a value.
    let mut render = frames.clone();
    render.extend(value_seeds(differential_key, 20, 0x4e4d));
    write("render", &render);
    write("json", &render);
    write("roundtrip", &value_seeds(request_key, 64, 0x5eed));
    write("roundtrip_result", &value_seeds(result_key, 14, 0x7e57));
}

/// A small conversation for capture seeds: the first `n` messages of the
/// standard one (an unencrypted pair, then encrypted, wrapped requests).
fn short_conversation(n: usize) -> fixtures::Conversation {
    let mut c = fixtures::Conversation::standard();
    c.messages.truncate(n);
    c.expected.retain(|e| e.message < n);
    c
}

/// Captures for the capture_file and pcap_pipeline seeds: every transport,
/// file format and link type once, and the faults of the fixture suite.
fn capture_seeds() -> Vec<(String, Vec<u8>)> {
    use fixtures::{CaptureSpec, ConnectionSpec, Format, Link, Segmenting, Tamper, Transport};
    let mut out = Vec::new();
    let mut add = |name: String, spec: CaptureSpec| out.push((name, fixtures::build(&spec).bytes));
    for t in Transport::all() {
        let mut c = ConnectionSpec::new(t.clone());
        c.conversation = short_conversation(4);
        add(format!("fixture-{}", slug(&t.label())), CaptureSpec::single(c));
    }
    let small = || {
        let mut c = ConnectionSpec::new(Transport::plain(inspector::transport::Framing::Intermediate));
        c.conversation = short_conversation(3);
        c
    };
    for (i, link) in Link::ALL.iter().enumerate() {
        let mut spec = CaptureSpec::single(small());
        spec.links = vec![*link];
        spec.connections[0].v6 = i % 2 == 1;
        add(format!("fixture-link-{link:?}").to_lowercase(), spec);
    }
    for (name, format) in [
        ("pcap-be-nanos", Format::Pcap { big_endian: true, nanos: true }),
        ("pcapng-le", Format::PcapNg { big_endian: false, sections: 1 }),
        ("pcapng-be-2-sections", Format::PcapNg { big_endian: true, sections: 2 }),
    ] {
        let mut spec = CaptureSpec::single(small());
        spec.format = format;
        add(format!("fixture-{name}"), spec);
    }
    type Fault = Box<dyn Fn(&mut ConnectionSpec)>;
    let faults: Vec<(&str, Fault)> = vec![
        ("split-every-8", Box::new(|c| c.segmenting = Segmenting { mss: 8, ..Segmenting::default() })),
        ("coalesced", Box::new(|c| c.segmenting.coalesce = true)),
        ("reordered", Box::new(|c| c.segmenting.reorder = vec![1, 3])),
        ("retransmitted", Box::new(|c| c.segmenting.retransmit = vec![0, 2])),
        ("dropped", Box::new(|c| c.segmenting.drop = vec![2])),
        ("mid-stream", Box::new(|c| c.segmenting.start_at = Some(2))),
        ("wrong-direction", Box::new(|c| c.tamper = vec![(2, Tamper::WrongDirection)])),
        ("other-key", Box::new(|c| c.tamper = vec![(2, Tamper::OtherKey)])),
    ];
    for (name, f) in faults {
        let mut c = small();
        f(&mut c);
        add(format!("fixture-{name}"), CaptureSpec::single(c));
    }
    let mut full = ConnectionSpec::new(Transport::plain(inspector::transport::Framing::Full));
    full.conversation = short_conversation(3);
    full.tamper = vec![(1, Tamper::BadCrc)];
    add("fixture-full-bad-crc".into(), CaptureSpec::single(full));
    let mut bomb = small();
    bomb.conversation = short_conversation(2).with_bomb(fixtures::gzip_packed(&vec![0u8; 200_000]));
    add("fixture-gzip-over-cap".into(), CaptureSpec::single(bomb));
    let mut truncated = CaptureSpec::single(small());
    truncated.truncate = 37;
    add("fixture-truncated".into(), truncated);
    for name in ["abridged.pcap", "obfuscated_intermediate.pcap"] {
        let bytes = fs::read(corpus_root().join("captures").join(name)).expect("a shipped capture");
        out.push((format!("real-{}", name.trim_end_matches(".pcap")), bytes));
    }
    out
}

/// A `fixture-*` capture as a pcap_pipeline seed: a legacy pcap file gets
/// its header's `sigfigs` field (which readers ignore) set so that its
/// byte sum is a multiple of 32, which makes the target compare one thread
/// with two on it and run the text report (it samples both by the byte
/// sum: a thirty-second of all inputs), while its other sampled choices,
/// taken from bits 5-7 of the sum (the schema) and from a hash of the
/// bytes (the run with small connection limits, the reader that goes
/// away), stay as they were. The fixtures' faults (a lost segment, a
/// message under another key, ...) then reach the threaded driver from the
/// first run of the corpus. Other files come back unchanged.
fn threads_picked(name: &str, bytes: &[u8]) -> Vec<u8> {
    use inspector_tests::fuzzing::{limits_choice, reader_goes_away_chosen, Checks};
    if !name.starts_with("fixture-") || !fixtures::is_legacy_pcap(bytes) {
        return bytes.to_vec();
    }
    let schema_bits = bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b)) & 0xe0;
    let hashed = |b: &[u8]| (limits_choice(b, Checks::Sampled), reader_goes_away_chosen(b));
    fixtures::with_sigfigs(bytes.to_vec(), |sum| schema_bits.wrapping_sub(sum), |b| hashed(b) == hashed(bytes))
        .unwrap_or_else(|| panic!("no sigfigs value keeps {name}'s choices"))
}

/// Random inputs for the targets that structure their bytes with
/// `arbitrary`: the first input found for each key of interest.
fn random_seeds(
    prefix: &str,
    key: impl Fn(&[u8]) -> Option<String>,
    wanted: usize,
    seed: u64,
) -> Vec<(String, Vec<u8>)> {
    let mut rng = XorShift(seed);
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for _ in 0..200_000 {
        let len = 32 + (rng.next_u64() % 480) as usize;
        let data = rng.bytes(len);
        if let Some(k) = key(&data) {
            found.entry(k).or_insert(data);
        }
        if found.len() >= wanted {
            break;
        }
    }
    found.into_iter().map(|(k, v)| (format!("{prefix}-{k}"), v)).collect()
}

#[test]
#[ignore = "writes corpus/; run with CORPUS_WRITE=1 to regenerate the pipeline seeds"]
fn regenerate_pipeline_seeds() {
    if std::env::var_os("CORPUS_WRITE").is_none() {
        eprintln!("set CORPUS_WRITE=1 to write the seed corpus");
        return;
    }
    let root = corpus_root();
    let write = |target: &str, seeds: &[(String, Vec<u8>)]| {
        let dir = root.join(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        for (name, data) in seeds {
            fs::write(dir.join(name), data).expect("seed written");
        }
        let regressions = root.join("regressions").join(target);
        fs::create_dir_all(&regressions).expect("regressions dir");
        fs::write(regressions.join(".gitkeep"), b"").expect(".gitkeep written");
    };
    let captures = capture_seeds();
    write("capture_file", &captures);
    let picked: Vec<_> = captures.iter().map(|(name, bytes)| (name.clone(), threads_picked(name, bytes))).collect();
    write("pcap_pipeline", &picked);

    // The envelope and service seeds: the messages of the standard
    // conversation, encrypted (under the fixtures' key, which the envelope
    // target does not hold: it sees them as foreign) and as bodies.
    let key = fixtures::fixture_key();
    let conversation = fixtures::Conversation::standard();
    let mut envelope = Vec::new();
    let mut service = Vec::new();
    for (i, m) in conversation.messages.iter().enumerate() {
        envelope.push((format!("fixture-message-{i}"), fixtures::message_payload(m, &key, None, i)));
        // The service target's first byte picks the wrapping (0: none).
        service.push((format!("fixture-body-{i}"), [&[0u8][..], &m.body].concat()));
    }
    service.push(("gzip-bomb-small".into(), [&[0u8][..], &fixtures::gzip_bomb(100_000)].concat()));
    service.push(("nested-gzip-bomb".into(), [&[0u8][..], &fixtures::nested_gzip_bomb(3, 50_000)].concat()));
    service.push(("gzip-mode-request".into(), [&[2u8][..], &conversation.messages[0].body].concat()));
    service.push(("rpc-gzip-mode-answer".into(), [&[3u8][..], &conversation.messages[1].body].concat()));
    envelope.extend(random_seeds("random", |d| Some(format!("{:02x}", d[0] % 8)), 8, 0xe1));
    write("envelope", &envelope);
    write("service", &service);

    // tcp_reassembly and transport draw their scenario with `arbitrary`:
    // random inputs, one per shape of scenario.
    let tcp = random_seeds("random", |d| Some(format!("{:02}-segments", (d.len() / 40).min(12))), 12, 0x7c9);
    write("tcp_reassembly", &tcp);
    let transport = random_seeds(
        "random",
        |d| {
            let mut u = Unstructured::new(d);
            let forced = Option::<(u8, bool)>::arbitrary(&mut u).ok()?;
            let mtproxy = u8::arbitrary(&mut u).ok()? % 3;
            let mid = bool::arbitrary(&mut u).ok()?;
            let framed = u32::arbitrary(&mut u).ok()? >= u32::MAX / 2;
            Some(format!("forced{}-mtproxy{mtproxy}-mid{}-framed{}", forced.is_some() as u8, mid as u8, framed as u8))
        },
        24,
        0x7a5,
    );
    write("transport", &transport);
}

/// What the `conversation` seeds must reach between them: every transport
/// as the report names it (every framing plain, the three tagged ones
/// obfuscated, MTProxy with a plain and a `dd` secret), every wrapper, every
/// fault, and both sampled checks.
fn conversation_required() -> Vec<String> {
    let mut want: Vec<String> = fixtures::Transport::all().iter().map(|t| format!("transport:{}", t.label())).collect();
    for o in ["none", "obfuscated2", "mtproxy", "mtproxy-dd"] {
        want.push(format!("obfuscation:{o}"));
    }
    for w in ["msg_container", "gzip_packed", "rpc_result", "invokeWithLayer", "initConnection", "invokeAfterMsg"] {
        want.push(format!("wrapper:{w}"));
    }
    // The sampled checks too, so that replaying the seeds compares two
    // threads with one and runs the text report.
    for f in [
        "unencrypted",
        "other_method",
        "quick_acks",
        "loss",
        "reorder",
        "retransmit",
        "coalesce",
        "check:threads",
        "check:text",
    ] {
        want.push(f.into());
    }
    want
}

/// The costly checks of the whole-pipeline targets: while fuzzing, each on
/// its share of the inputs (chosen by the byte sum, so one input of each
/// sum here); replaying a corpus (`Checks::All`), every one on every input.
#[test]
fn costly_checks_are_sampled_while_fuzzing_and_all_run_on_a_corpus() {
    use inspector_tests::fuzzing::conversation::sampled_checks;
    use inspector_tests::fuzzing::{pcap_pipeline_checks, Checks, PipelineChecks};
    // An input of each byte sum: one byte.
    let inputs: Vec<[u8; 1]> = (0..=255u8).map(|b| [b]).collect();
    let count = |f: &dyn Fn(&[u8]) -> bool| inputs.iter().filter(|d| f(&d[..])).count();

    assert_eq!(count(&|d| sampled_checks(d, Checks::Sampled).1), 16, "conversation: text report on a sixteenth");
    assert_eq!(count(&|d| sampled_checks(d, Checks::Sampled).0), 4, "conversation: two threads on a sixty-fourth");
    assert_eq!(
        count(&|d| { sampled_checks(d, Checks::Sampled) == (true, false) }),
        0,
        "conversation: an input on two threads gets the text report too"
    );
    assert_eq!(count(&|d| sampled_checks(d, Checks::All) == (true, true)), 256, "conversation: all checks");

    let sampled = |d: &[u8]| pcap_pipeline_checks(d, Checks::Sampled);
    assert_eq!(count(&|d| sampled(d).text), 64, "pcap_pipeline: text report on a quarter");
    assert_eq!(count(&|d| sampled(d).threads), 8, "pcap_pipeline: two threads on a thirty-second");
    assert!(inputs.iter().all(|d| !sampled(d).goes_away || sampled(d).threads), "a reader goes away only on threads");
    let all = |d: &[u8]| pcap_pipeline_checks(d, Checks::All);
    for d in &inputs {
        let PipelineChecks { threads, text, goes_away, limits } = all(d);
        assert!(threads && text && goes_away && limits.is_some(), "pcap_pipeline: not every check on {d:?}");
        // The same limits as the sample would choose, when it chooses any.
        if let Some(l) = sampled(d).limits {
            assert_eq!(limits, Some(l), "pcap_pipeline: other limits for {d:?}");
        }
    }
}

/// The issue's "its corpus reaches every transport and wrapper": the
/// committed seeds, decoded as conversations, reach all of
/// [`conversation_required`].
#[test]
fn conversation_seeds_reach_every_transport_and_wrapper() {
    let mut reached = std::collections::BTreeSet::new();
    for file in inputs(&corpus_root().join("conversation")) {
        reached.extend(inspector_tests::fuzzing::conversation::features(&fs::read(&file).expect("seed read")));
    }
    let missing: Vec<String> = conversation_required().into_iter().filter(|f| !reached.contains(f)).collect();
    assert!(missing.is_empty(), "the conversation seeds never reach {missing:?}");
}

/// Draws random inputs and keeps each that reaches a feature no kept one
/// did (a link type and file format too), until the seeds reach all of
/// [`conversation_required`]; every
/// input drawn goes through the property. Writes `corpus/conversation/`
/// with `CORPUS_WRITE=1`; without it, only draws and checks.
#[test]
#[ignore]
fn regenerate_conversation_seeds() {
    let mut rng = XorShift(0xc0_4e_5a_71_0e);
    let mut reached = std::collections::BTreeSet::new();
    let mut seeds = Vec::new();
    let required = conversation_required();
    let draws: usize = std::env::var("CONVERSATION_DRAWS").ok().and_then(|n| n.parse().ok()).unwrap_or(3000);
    for n in 0..draws {
        let len = 64 + (rng.next_u64() % 700) as usize;
        let data = rng.bytes(len);
        if let Some(path) = std::env::var_os("CONVERSATION_LAST") {
            fs::write(path, &data).expect("last draw written");
        }
        inspector_tests::fuzzing::conversation(&data);
        let f = inspector_tests::fuzzing::conversation::features(&data);
        if f.iter().any(|x| !reached.contains(x)) {
            reached.extend(f);
            seeds.push((format!("drawn-{n:05}"), data));
        }
        if required.iter().all(|r| reached.contains(r)) && n > 200 {
            break;
        }
    }
    let missing: Vec<&String> = required.iter().filter(|f| !reached.contains(*f)).collect();
    assert!(missing.is_empty(), "{draws} draws never reach {missing:?}");
    if std::env::var_os("CORPUS_WRITE").is_some() {
        let dir = corpus_root().join("conversation");
        fs::create_dir_all(&dir).expect("corpus dir");
        for (name, data) in &seeds {
            fs::write(dir.join(name), data).expect("seed written");
        }
    }
    eprintln!("{} seeds", seeds.len());
}

/// `pcap_pipeline` reads its report's lines back without building a JSON
/// value: it must keep what it counts (a `warning` member, whatever its
/// value, and only at the top) and refuse what the property must not let
/// through (a line that is not JSON, or not one object).
#[test]
fn pcap_pipeline_reads_report_lines_back() {
    use inspector_tests::fuzzing::report_line_warns as warns;
    assert!(warns(r#"{"warning":"a gap"}"#).unwrap());
    assert!(warns(r#"{"time":"x","warning":null}"#).unwrap());
    assert!(warns(r#"{"war\u006eing":1}"#).unwrap(), "an escaped name is the same name");
    assert!(!warns(r#"{"kind":"request","body":{"_":"x","warning":[1,{"a":2}]}}"#).unwrap());
    assert!(!warns(r#"{"summary":{"warnings":3}}"#).unwrap());
    for bad in [r#"{"warning":"x""#, r#"{"warning":tru}"#, "3", r#"["warning"]"#, r#"{"a":1} {"b":2}"#, r#"{"a":"\x"}"#]
    {
        assert!(warns(bad).is_err(), "{bad} was read as a report line");
    }
}

/// The conversation target reads every report line; its string members
/// are read without a copy where they have no escapes (serde copies a
/// `Cow` inside an `Option` or a `Vec` unless told otherwise), and one
/// with escapes still reads right.
#[test]
fn conversation_reads_report_members_without_copies() {
    use inspector_tests::fuzzing::conversation::Line;
    use std::borrow::Cow;
    let text = r#"{"kind":"request","direction":"client → server","wrapping":["msg_container","gzip_packed"],"warning":"a \"quoted\" word","msg_id":7}"#;
    let line = Line::read(text);
    assert!(matches!(line.kind, Some(Cow::Borrowed("request"))), "{:?}", line.kind);
    assert!(matches!(line.direction, Some(Cow::Borrowed("client → server"))), "{:?}", line.direction);
    assert!(
        matches!(line.wrapping.as_deref(), Some([Cow::Borrowed("msg_container"), Cow::Borrowed("gzip_packed")])),
        "{:?}",
        line.wrapping
    );
    assert!(matches!(&line.warning, Some(Cow::Owned(w)) if w == "a \"quoted\" word"), "{:?}", line.warning);
    assert_eq!(line.msg_id, Some(7));
    assert_eq!(line.transport, None);
}

/// The conversation target reads a whole report with one deserializer:
/// the same lines as reading each on its own, and a report whose objects
/// are not one to a line is refused.
#[test]
fn conversation_reads_a_report_line_by_line() {
    use inspector_tests::fuzzing::conversation::Line;
    let report = concat!(
        r#"{"kind":"request","msg_id":4,"body":{"_":"x","peer":{"_":"y"}},"wrapping":[]}"#,
        "\n",
        r#"{"warning":"a \"quoted\" word","deep":[[{"a":[1]}]]}"#,
        "\n",
        r#"{"summary":{"warnings":1}}"#,
        "\n"
    );
    let all = Line::read_all(report);
    let each: Vec<Line> = report.lines().map(Line::read).collect();
    assert_eq!(format!("{all:?}"), format!("{each:?}"));
    assert_eq!(all.len(), 3);
    assert_eq!(all[1].text, report.lines().nth(1).unwrap());
    for bad in ["{\"a\":1} {\"b\":2}\n", "{\"a\":\n1}\n", "{\"a\":1}\n\n{\"b\":2}\n", "{\"a\":1}\n{\"b\":tru}\n"] {
        let read = std::panic::catch_unwind(|| Line::read_all(bad).len());
        assert!(read.is_err(), "{bad:?} was read as a report");
    }
}
