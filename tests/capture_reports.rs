//! Snapshots of `inspector pcap`'s reports on the two real-client captures
//! shipped in corpus/captures (Telethon over loopback, see MANIFEST.json):
//! the text report, the text report with `--all` (other methods decoded with
//! the built-in schema), and the JSON Lines
//! report. Any change to what the pipeline finds or how it says so shows
//! up here as a diff to review.

use inspector::envelope::{parse_auth_key, KeyStore};
use inspector::report::{run_capture, ReportFormat, ReportOptions};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/captures/");

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn report(capture: &str, format: ReportFormat, all: bool) -> String {
    let bytes = std::fs::read(format!("{DIR}{capture}.pcap")).expect("the shipped capture");
    let key = std::fs::read(format!("{DIR}auth_key.hex")).expect("the shipped key");
    let mut keys = KeyStore::new();
    keys.insert(parse_auth_key(&key).expect("a valid key"));
    // As `inspector pcap --all` does, `--all` names and decodes every other
    // message with the built-in schema.
    let schema = all.then(inspector::tl::dynamic::Schema::builtin);
    let options = ReportOptions { keys, format, all, schema, ..Default::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_capture(&bytes[..], &options, &mut out, &mut err).expect("the capture is read");
    assert_eq!(String::from_utf8_lossy(&err), "", "{capture}: no warnings");
    String::from_utf8(out).expect("UTF-8 report")
}

#[test]
fn abridged_reports() {
    snapshot!("capture_report_abridged_text", report("abridged", ReportFormat::Text, false));
    snapshot!("capture_report_abridged_text_all", report("abridged", ReportFormat::Text, true));
    snapshot!("capture_report_abridged_json", report("abridged", ReportFormat::Json, false));
}

#[test]
fn obfuscated_intermediate_reports() {
    let name = "obfuscated_intermediate";
    snapshot!("capture_report_obfuscated_intermediate_text", report(name, ReportFormat::Text, false));
    snapshot!("capture_report_obfuscated_intermediate_text_all", report(name, ReportFormat::Text, true));
    snapshot!("capture_report_obfuscated_intermediate_json", report(name, ReportFormat::Json, false));
}
