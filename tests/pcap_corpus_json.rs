//! `pcap --extract-corpus` writes the same seeds whatever the report's
//! format, and every seed is a frame the typed decoder reads.

use inspector::cli::ExitStatus;
use inspector::tl::{Frame, TlObject};
use inspector_tests::cli::cli;

const CAPTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/abridged.pcap");
const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/auth_key.hex");

fn extract(format: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::env::temp_dir().join(format!("inspector-corpus-{}-{format}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = ["pcap", CAPTURE, "--auth-key", KEY, "--format", format, "--extract-corpus", dir.to_str().unwrap()];
    let out = cli(&args, b"");
    assert_eq!(out.status, ExitStatus::Ok, "{}", out.stderr);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    seeds.sort();
    std::fs::remove_dir_all(&dir).unwrap();
    seeds
}

#[test]
fn json_and_text_reports_extract_the_same_seeds() {
    let json = extract("json");
    assert!(!json.is_empty());
    assert_eq!(json, extract("text"));
    for (name, bytes) in &json {
        assert_eq!(name.len(), 64, "{name}");
        Frame::from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
