//! The typed closure and the schema-driven decoder agree on every frame of
//! the snapshot matrix (requests and answers), on each truncation of a few
//! full frames, and render the same tree; see
//! `tests/support/schema_differential.rs` for what "agree" checks.

use inspector::render::{hexdump, tree};
use inspector::tl::dynamic::{Expect, Schema};
use inspector::tl::{decode_traced, DecodeOptions, ExportedChatInvite, Frame, Recorder, TlObject};
use inspector_tests::matrix;
use inspector_tests::schema_differential::agree;

fn frames() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> =
        matrix::requests().into_iter().map(|(name, r)| (name, r.to_bytes().unwrap())).collect();
    for mask in 0..(1 << 11) {
        let frame: Frame = ExportedChatInvite::Exported(matrix::answer(mask)).into();
        out.push((format!("answer {mask:#x}"), frame.to_bytes().unwrap()));
    }
    out.extend(matrix::snapshot_answers().into_iter().map(|(name, f)| (name, f.to_bytes().unwrap())));
    out
}

#[test]
fn both_decoders_agree_on_the_whole_matrix() {
    let frames = frames();
    assert!(frames.len() > 3000, "{} frames", frames.len());
    for (name, bytes) in &frames {
        for options in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            if let Err(e) = agree(bytes, options) {
                panic!("{name}: {e}");
            }
        }
    }
}

#[test]
fn both_decoders_agree_on_every_truncation_of_full_frames() {
    let mut full = vec![matrix::full_request().to_bytes().unwrap()];
    full.push(Frame::from(ExportedChatInvite::Exported(matrix::answer(0x7ff))).to_bytes().unwrap());
    for bytes in full {
        for end in 0..bytes.len() {
            agree(&bytes[..end], DecodeOptions::strict()).unwrap_or_else(|e| panic!("first {end} bytes: {e}"));
        }
    }
}

#[test]
fn the_tree_and_the_field_map_are_the_same() {
    for (name, bytes) in matrix::snapshot_answers()
        .into_iter()
        .map(|(n, f)| (n, f.to_bytes().unwrap()))
        .chain(std::iter::once(("full request".to_string(), matrix::full_request().to_bytes().unwrap())))
    {
        let typed = decode_traced::<Frame>(&bytes, DecodeOptions::strict());
        assert!(typed.result.is_ok(), "{name}");
        let mut rec = Recorder::default();
        let (dynamic, rec) =
            Schema::builtin().decode_with_sink(&bytes, &Expect::frame(), DecodeOptions::strict(), &mut rec);
        assert!(dynamic.is_ok(), "{name}");
        assert_eq!(tree::render_tree(&bytes, &rec.events, false), tree::render_tree(&bytes, &typed.trace, false));
        assert_eq!(
            hexdump::render_hexdump(&bytes, &rec.events, false),
            hexdump::render_hexdump(&bytes, &typed.trace, false)
        );
    }
}
