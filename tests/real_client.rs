//! Frames made by a real client library (Telethon, in corpus/captures/,
//! with MANIFEST.json listing every frame's decrypted plaintext and its
//! decoded values): every exportChatInvite request and answer the manifest
//! lists must decode strictly here to the same canonical JSON, and encode
//! back to the client's exact bytes.

use inspector::tl::json::TlJson;
use inspector::tl::{DecodeOptions, Frame, Reader, TlObject};
use serde_json::Value;

fn manifest() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/MANIFEST.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    inspector::hex::parse(s).unwrap()
}

/// Every frame of the closure found in `payload`: at each offset holding one
/// of the top-level constructor ids, a strict decode of one object (what
/// follows it in the message, such as padding, is not part of it).
fn frames_in(payload: &[u8]) -> Vec<(Frame, Vec<u8>)> {
    let ids: [u32; 4] = [0xa455de90, 0xa22cbd96, 0xed107ab7, 0x2144ca19];
    let mut found = Vec::new();
    for start in 0..payload.len().saturating_sub(3) {
        let id = u32::from_le_bytes(payload[start..start + 4].try_into().unwrap());
        if !ids.contains(&id) {
            continue;
        }
        let mut r = Reader::new(&payload[start..], DecodeOptions::strict());
        if let Ok(frame) = Frame::decode_boxed(&mut r, "") {
            found.push((frame, payload[start..start + r.pos()].to_vec()));
        }
    }
    found
}

#[test]
fn every_uncompressed_request_and_answer_of_the_real_captures_decodes() {
    let m = manifest();
    let (mut requests, mut answers, mut compressed) = (0, 0, 0);
    for capture in m["captures"].as_array().unwrap() {
        let frames = capture["frames"].as_array().unwrap();
        let payload_of = |i: usize| {
            let f = &frames[i];
            unhex(f["body_hex"].as_str().or(f["plaintext_hex"].as_str()).expect("plaintext listed"))
        };
        let expected = capture["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r, &r["params"]))
            .chain(capture["responses"].as_array().unwrap().iter().map(|r| (r, &r["result"])));
        for (entry, value) in expected {
            let wrapping = entry["wrapping"].to_string();
            if wrapping.contains("gzip_packed") {
                // Compressed on the wire: the capture pipeline's tests cover these.
                compressed += 1;
                continue;
            }
            let found = frames_in(&payload_of(entry["frame"].as_u64().unwrap() as usize));
            let (frame, bytes) = found
                .iter()
                .find(|(f, _)| &f.to_json() == value)
                .unwrap_or_else(|| panic!("{} frame {}: {value} not decoded", capture["file"], entry["frame"]));
            assert_eq!(&frame.to_bytes().unwrap(), bytes, "re-encoding differs from the client's bytes");
            assert_eq!(&Frame::from_json(value).unwrap(), frame);
            if matches!(frame, Frame::Request(_)) {
                requests += 1;
            } else {
                answers += 1;
            }
        }
    }
    println!("real frames decoded: {requests} requests, {answers} answers; {compressed} compressed ones left to the capture tests");
    assert!(requests >= 8 && answers >= 8, "{requests} requests, {answers} answers");
}
