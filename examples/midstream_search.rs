//! The cost of looking for plain-transport frames in a connection seen from
//! the middle (a capture started after the connection did) when the bytes
//! hold none: an obfuscated stream without its first 64 bytes looks like
//! noise, and the search goes on for `MAX_MID_STREAM_SEARCH` (1 MiB) before
//! it gives up. Feeds that much noise in segments of a TCP packet, as the
//! capture pipeline does, and prints the time:
//!
//!     cargo run --release --example midstream_search [SEGMENT_BYTES]
//!
//! (BENCHMARKS.md, "A connection seen from the middle".)

use inspector::tcp::Direction;
use inspector::transport::{TransportConnection, TransportOptions, MAX_MID_STREAM_SEARCH};

fn main() {
    let segment: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1460).max(1);
    // xorshift64: noise that is the same on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..MAX_MID_STREAM_SEARCH)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let start = std::time::Instant::now();
    let mut conn = TransportConnection::mid_stream(TransportOptions::default());
    let mut out = Vec::new();
    for piece in noise.chunks(segment) {
        conn.feed(Direction::ClientToServer, piece, &mut out);
    }
    let elapsed = start.elapsed();
    println!(
        "{} bytes in segments of {segment}: {:.3} s, {} events, framing {:?}",
        noise.len(),
        elapsed.as_secs_f64(),
        out.len(),
        conn.info().map(|i| i.framing)
    );
}
