//! Cross-check against `grammers-tl-types`, an independent implementation of
//! the same definitions: every matrix entry and thousands of generated values
//! must encode to identical bytes and decode to equal values both ways.

use arbitrary::{Arbitrary, Unstructured};
use inspector::tl::{ExportChatInvite, ExportedChatInvite, RpcError, TlObject};
use inspector_tests::rng::XorShift;
use inspector_tests::{grammers, matrix};

fn check_request(label: &str, value: &ExportChatInvite) {
    let ours = value.to_bytes().unwrap();
    let theirs = grammers::encode_request(value);
    assert_eq!(ours, theirs, "{label}: encodings differ");
    assert_eq!(ExportChatInvite::from_bytes(&theirs).as_ref(), Ok(value), "{label}: we misread grammers' bytes");
    assert_eq!(grammers::decode_request(&ours).as_ref(), Some(value), "{label}: grammers misreads our bytes");
}

fn check_answer(label: &str, value: &ExportedChatInvite) {
    let ours = value.to_bytes().unwrap();
    assert_eq!(ours, grammers::encode_answer(value), "{label}: encodings differ");
    assert_eq!(ExportedChatInvite::from_bytes(&ours).as_ref(), Ok(value), "{label}");
    assert_eq!(grammers::decode_answer(&ours).as_ref(), Some(value), "{label}: grammers misreads our bytes");
}

fn check_rpc_error(label: &str, value: &RpcError) {
    let ours = value.to_bytes().unwrap();
    assert_eq!(ours, grammers::encode_rpc_error(value), "{label}: encodings differ");
    assert_eq!(grammers::decode_rpc_error(&ours).as_ref(), Some(value), "{label}");
}

#[test]
fn every_request_of_the_matrix_matches_grammers() {
    let requests = matrix::requests();
    assert_eq!(requests.len(), 64 * 19);
    for (label, value) in &requests {
        check_request(label, value);
    }
}

#[test]
fn every_answer_flag_combination_matches_grammers() {
    for mask in 0..(1 << 11) {
        check_answer(
            &format!("chatInviteExported mask {mask:#x}"),
            &ExportedChatInvite::Exported(matrix::answer(mask)),
        );
    }
    check_answer("chatInvitePublicJoinRequests", &ExportedChatInvite::PublicJoinRequests);
}

/// How many generated values of each type are compared.
const GENERATED: usize = 3000;

#[test]
fn generated_values_match_grammers() {
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    let (mut requests, mut answers, mut errors) = (0, 0, 0);
    for i in 0..GENERATED {
        let data = rng.bytes(512);
        let mut u = Unstructured::new(&data);
        if let Ok(value) = ExportChatInvite::arbitrary(&mut u) {
            check_request(&format!("generated request #{i}: {value:?}"), &value);
            requests += 1;
        }
        if let Ok(value) = ExportedChatInvite::arbitrary(&mut u) {
            check_answer(&format!("generated answer #{i}"), &value);
            answers += 1;
        }
        if let Ok(value) = RpcError::arbitrary(&mut u) {
            check_rpc_error(&format!("generated rpc_error #{i}"), &value);
            errors += 1;
        }
    }
    println!("generated values matched grammers: {requests} requests, {answers} answers, {errors} rpc_errors");
    // Arbitrary only fails on exhausted input, which 512 bytes should not be.
    assert!(requests >= GENERATED * 9 / 10 && answers >= GENERATED / 2, "{requests} {answers} {errors}");
}

#[test]
fn snapshot_answers_match_grammers() {
    for (label, frame) in matrix::snapshot_answers() {
        match frame {
            inspector::tl::Frame::Answer(a) => check_answer(&label, &a),
            inspector::tl::Frame::Error(e) => check_rpc_error(&label, &e),
            inspector::tl::Frame::Request(r) => check_request(&label, &r),
        }
    }
}
