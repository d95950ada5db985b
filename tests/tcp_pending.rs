//! Segments that wait behind a hole in a TCP stream: a shorter copy at the
//! same offset is ignored, a longer one replaces it, one inside what was
//! delivered is a retransmission, and one after a second hole waits for it.

use std::net::SocketAddr;

use inspector::capture::TcpSegment;
use inspector::tcp::{Direction, TcpEvent, TcpReassembler};

const C: &str = "10.0.0.1:50000";
const S: &str = "149.154.167.50:443";

fn seg(seq: u32, syn: bool, payload: &[u8]) -> TcpSegment<'_> {
    let (src, dst): (SocketAddr, SocketAddr) = (C.parse().unwrap(), S.parse().unwrap());
    TcpSegment { src, dst, seq, ack: None, syn, fin: false, rst: false, payload }
}

fn data(events: &[TcpEvent<'static>]) -> Vec<(u64, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            TcpEvent::Data { direction: Direction::ClientToServer, offset, bytes, .. } => {
                Some((*offset, bytes.to_vec()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn segments_behind_a_hole_keep_the_longest_copy_and_drop_retransmissions() {
    let mut tcp = TcpReassembler::new();
    let mut out: Vec<TcpEvent<'static>> = Vec::new();
    tcp.segment(&seg(999, true, b""), &mut out); // ISN 999: the stream starts at 1000
    let stream: Vec<u8> = (0u8..40).collect();
    let at = |off: usize, len: usize| seg(1000 + off as u32, false, &stream[off..off + len]);
    tcp.segment(&at(10, 10), &mut out); // waits: 0..10 is missing
    tcp.segment(&at(10, 5), &mut out); // a shorter copy: ignored
    tcp.segment(&at(10, 15), &mut out); // a longer one: replaces it
    tcp.segment(&at(12, 3), &mut out); // inside it: delivered already when its turn comes
    tcp.segment(&at(30, 5), &mut out); // after a second hole
    assert!(data(&out).is_empty(), "{out:?}");
    tcp.segment(&at(0, 10), &mut out);
    assert_eq!(data(&out), [(0, stream[..10].to_vec()), (10, stream[10..25].to_vec())]);
    out.clear();
    tcp.finish(&mut out);
    assert!(out.iter().any(|e| matches!(e, TcpEvent::Gap { offset: 25, len: 5, .. })), "{out:?}");
    assert_eq!(data(&out), [(30, stream[30..35].to_vec())]);
    // The copies that brought nothing new are counted as retransmitted.
    assert_eq!(tcp.stats().retransmitted_bytes, 3);
}
