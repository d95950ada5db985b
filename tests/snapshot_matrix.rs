//! Snapshots of the whole flag × peer matrix as encodings, trees of a
//! representative set of it (every constructor, every flag bit, nesting,
//! the longest frame) and of the answers, the JSON form and the schema view. Review changes with
//! `cargo insta review`; the files live in snapshots/.

use std::fmt::Write as _;

use inspector::render::{schema, tree};
use inspector::tl::json::TlJson;
use inspector::tl::{decode_traced, DecodeOptions, Frame, TlObject};
use inspector_tests::matrix;

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn hex(bytes: &[u8]) -> String {
    inspector::hex::encode(bytes)
}

/// The tree of `frame` as `inspector decode` prints it without colour,
/// drawn from a strict decode of its encoding.
fn tree_of(frame: &Frame) -> String {
    let bytes = frame.to_bytes().unwrap();
    let traced = decode_traced::<Frame>(&bytes, DecodeOptions::strict());
    assert_eq!(traced.result.as_ref(), Ok(frame));
    assert!(traced.warnings.is_empty());
    tree::render_tree(&bytes, &traced.trace, false)
}

#[test]
fn request_encodings() {
    let mut out = String::new();
    for (label, value) in matrix::requests() {
        writeln!(out, "{label:<60} {}", hex(&value.to_bytes().unwrap())).unwrap();
    }
    snapshot!("request_encodings", out);
}

/// Every request of the matrix decodes strictly to itself and renders; the
/// encodings are pinned above, so only the representative trees below are
/// pinned as text.
#[test]
fn every_matrix_request_decodes_to_itself_and_renders() {
    let mut n = 0;
    for (label, request) in matrix::requests() {
        let tree = tree_of(&Frame::Request(request));
        assert!(!tree.is_empty(), "{label}: empty tree");
        n += 1;
    }
    assert_eq!(n, 64 * matrix::peers().len());
}

/// The (mask, peer) cases whose trees are pinned: each plain peer with no
/// optional field, each flag bit alone and all of them, both `*FromMessage`
/// constructors two and three deep, and the longest frame of the matrix.
fn representative_requests() -> Vec<(u32, &'static str)> {
    let mut cases: Vec<(u32, &str)> = ["empty", "self", "chat", "user", "channel"].map(|p| (0, p)).to_vec();
    cases.extend((0..6).map(|bit| (1 << bit, "self")));
    cases.push((0x3f, "self"));
    cases.push((0, "user_from_message(user)"));
    cases.push((0, "channel_from_message(user)"));
    cases.push((0, "user_from_message(channel_from_message(user))"));
    cases.push((0x3f, "channel_from_message(user_from_message(user))"));
    cases
}

#[test]
fn request_trees() {
    let peers = matrix::peers();
    let longest = matrix::full_request().to_bytes().unwrap().len();
    for (label, request) in matrix::requests() {
        assert!(request.to_bytes().unwrap().len() <= longest, "{label} is longer than the pinned longest frame");
    }
    let mut out = String::new();
    for (mask, peer_name) in representative_requests() {
        let peer = peers.iter().find(|(name, _)| name == peer_name).expect("a peer of the matrix").1.clone();
        let frame = Frame::Request(matrix::request(mask, peer));
        writeln!(out, "## flags={mask:#04x} peer={peer_name}\n{}", tree_of(&frame)).unwrap();
    }
    snapshot!("request_trees", out);
}

#[test]
fn answers() {
    let mut out = String::new();
    for (label, frame) in matrix::snapshot_answers() {
        let bytes = frame.to_bytes().unwrap();
        writeln!(out, "## {label}\n{}\n{}", hex(&bytes), tree_of(&frame)).unwrap();
    }
    snapshot!("answers", out);
}

/// The JSON the capture report builds by taking each value apart is the
/// JSON of the value, for the whole matrix and every answer (with and
/// without title and link text; invalid text is covered by the fuzz
/// targets' lenient frames).
#[test]
fn into_json_is_to_json() {
    let frames = matrix::requests().into_iter().map(|(l, r)| (l, Frame::Request(r))).chain(matrix::snapshot_answers());
    let mut n = 0;
    for (label, frame) in frames {
        assert_eq!(frame.clone().into_json(), frame.to_json(), "{label}");
        n += 1;
    }
    assert!(n > 1216, "{n}");
}

#[test]
fn json_forms() {
    let mut out = String::new();
    let samples: Vec<(String, Frame)> = vec![
        ("request, no optional field".into(), Frame::Request(matrix::request(0, inspector::tl::InputPeer::PeerSelf))),
        ("request, every field".into(), Frame::Request(matrix::full_request())),
    ]
    .into_iter()
    .chain(
        matrix::snapshot_answers().into_iter().filter(|(l, _)| l.ends_with("0x7ff") || l.starts_with("rpc_error 400")),
    )
    .collect();
    for (label, frame) in samples {
        let json = frame.to_json();
        assert_eq!(Frame::from_json(&json).as_ref(), Ok(&frame), "{label}: JSON does not read back");
        assert_eq!(frame.clone().into_json(), json, "{label}: into_json differs from to_json");
        writeln!(out, "## {label}\n{}", serde_json::to_string_pretty(&json).unwrap()).unwrap();
    }
    snapshot!("json_forms", out);
}

#[test]
fn schema_views() {
    let mut out = String::new();
    for name in schema::known_names() {
        writeln!(out, "## inspector schema {name}\n{}", schema::render_schema(name, false).unwrap()).unwrap();
    }
    writeln!(out, "## inspector schema --tl\n{}", schema::render_tl_lines()).unwrap();
    snapshot!("schema", out);
}
