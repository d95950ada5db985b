//! `--extract-corpus` when a seed cannot be written: the run goes on, and
//! the report says which file could not be written and why, once.

use inspector::cli::ExitStatus;
use inspector::transport::Framing;
use inspector_tests::cli::cli;
use inspector_tests::fixtures::{build, CaptureSpec, ConnectionSpec, Transport};

/// Run `inspector pcap` on `capture` with the fixture's key and `extra`:
/// the exit status and what went to stderr.
fn run(capture: &std::path::Path, key_hex: &str, extra: &[&str]) -> (ExitStatus, String) {
    let mut args = vec!["pcap", capture.to_str().unwrap(), "--auth-key", key_hex];
    args.extend_from_slice(extra);
    let out = cli(&args, b"");
    (out.status, out.stderr)
}

#[cfg(unix)]
#[test]
fn a_seed_that_cannot_be_written_is_a_warning_naming_it() {
    let f = build(&CaptureSpec::single(ConnectionSpec::new(Transport::plain(Framing::Abridged))));
    let dir = std::env::temp_dir().join(format!("inspector-corpus-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("capture.pcap");
    std::fs::write(&capture, &f.bytes).unwrap();
    let key_hex = inspector::hex::encode(f.key.bytes());
    let seeds = dir.join("seeds");
    let seeds_arg = seeds.to_str().unwrap().to_string();

    // A first run writes every seed.
    let (status, stderr) = run(&capture, &key_hex, &["--extract-corpus", &seeds_arg]);
    assert_eq!(status, ExitStatus::Ok, "{stderr}");
    let mut names: Vec<String> =
        std::fs::read_dir(&seeds).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(!names.is_empty());

    // One seed replaced by a link into a folder that does not exist: it
    // is not there (the link leads nowhere), and writing it fails.
    let victim = seeds.join(&names[0]);
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink(dir.join("missing").join("seed"), &victim).unwrap();
    let (status, stderr) = run(&capture, &key_hex, &["--extract-corpus", &seeds_arg]);
    assert_eq!(status, ExitStatus::Ok, "a seed that cannot be written stopped the run: {stderr}");
    let expected = format!("--extract-corpus: cannot write {}: ", victim.display());
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("--extract-corpus")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains(&expected), "{stderr}");
    assert!(lines[0].contains("No such file or directory"), "{stderr}");
    // The other seeds are still there, unchanged in number.
    assert_eq!(std::fs::read_dir(&seeds).unwrap().count(), names.len());
    let _ = std::fs::remove_dir_all(&dir);
}
