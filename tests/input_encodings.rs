//! How `decode` reads its input when the encoding is detected: URL-safe
//! base64 is base64 too.

use inspector::input::{decode_input, parse_base64, InputEncoding};

#[test]
fn url_safe_base64_is_detected_and_read() {
    // 0xfb 0xff 0xbf: "+/+/" in the standard alphabet, "-_-_" in the URL-safe one.
    assert_eq!(parse_base64("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
    assert_eq!(parse_base64("+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
    assert_eq!(decode_input(b"-_-_\n", InputEncoding::Auto).unwrap(), (vec![0xfb, 0xff, 0xbf], InputEncoding::Base64));
    // Neither alphabet: the last decoder's complaint.
    assert!(parse_base64("a*b").is_err());
    assert_eq!(
        decode_input(b"a*b", InputEncoding::Auto).unwrap(),
        (b"a*b".to_vec(), InputEncoding::Raw),
        "text that is neither hex nor base64 is taken as raw bytes"
    );
}
