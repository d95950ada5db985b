//! `fuzz/rustc-sancov-ours.sh`, the `RUSTC_WRAPPER` of the fuzz builds:
//! which crates keep coverage instrumentation and AddressSanitizer's checks.
//! The wrapper is run with a stand-in for rustc that prints the arguments it
//! is given, once for each kind of crate cargo compiles.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The flags `cargo fuzz build -s address` gives every crate (sancov and
/// ASan), with fuzz/run.sh's markers for the library-only build.
const FLAGS: &[&str] = &[
    "--edition=2021",
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Zsanitizer=address",
    "--cfg",
    "fuzzing",
    "--cfg=inspector_fuzz_sancov_library",
    "--cfg=inspector_fuzz_asan_dependencies",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A rustc that prints its arguments, one a line, in a directory of its own.
fn echo_rustc() -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("inspector-fuzz-wrapper-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rustc");
    std::fs::write(&path, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n").unwrap();
    let status = Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    assert!(status.success());
    dir
}

/// The arguments rustc gets for crate `name` whose manifest is in `manifest`.
fn wrapped(manifest: &Path, name: &str, env: &[(&str, &str)]) -> Vec<String> {
    let dir = echo_rustc();
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("fuzz/rustc-sancov-ours.sh"))
        .arg(dir.join("rustc"))
        .args(FLAGS)
        .env("CARGO_MANIFEST_DIR", manifest)
        .env("CARGO_CRATE_NAME", name)
        .env_remove("INSPECTOR_FUZZ_SANCOV")
        .env_remove("INSPECTOR_FUZZ_ASAN")
        .env_remove("INSPECTOR_FUZZ_NEXT_WRAPPER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "the wrapper failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn has(args: &[String], flag: &str) -> bool {
    args.iter().any(|a| a == flag)
}

const LIBRARY_ONLY: &[(&str, &str)] = &[("INSPECTOR_FUZZ_SANCOV", "library"), ("INSPECTOR_FUZZ_ASAN", "dependencies")];

#[test]
fn our_two_crates_lose_the_asan_checks_only_when_asked() {
    for (manifest, name) in [(root().join("inspector"), "inspector"), (root(), "inspector_tests")] {
        let args = wrapped(&manifest, name, LIBRARY_ONLY);
        assert!(!has(&args, "-Zsanitizer=address"), "{name} kept ASan: {args:?}");
        assert!(has(&args, "-Cunsafe-allow-abi-mismatch=sanitizer"), "{name}: {args:?}");
        // Every other flag is passed on; the markers are not.
        assert!(has(&args, "fuzzing") && has(&args, "--edition=2021"), "{name}: {args:?}");
        assert!(!args.iter().any(|a| a.contains("inspector_fuzz_")), "{name}: a marker reached rustc: {args:?}");

        let args = wrapped(&manifest, name, &[("INSPECTOR_FUZZ_SANCOV", "library")]);
        assert!(has(&args, "-Zsanitizer=address"), "{name} lost ASan without being asked: {args:?}");
        assert!(!has(&args, "-Cunsafe-allow-abi-mismatch=sanitizer"), "{name}: {args:?}");
    }
    // The library keeps its coverage counters; the test-support crate has
    // none in the library-only build.
    let args = wrapped(&root().join("inspector"), "inspector", LIBRARY_ONLY);
    assert!(has(&args, "-Cpasses=sancov-module"), "{args:?}");
    let args = wrapped(&root(), "inspector_tests", LIBRARY_ONLY);
    assert!(!has(&args, "-Cpasses=sancov-module"), "{args:?}");
}

#[test]
fn dependencies_and_the_fuzz_crate_keep_the_asan_checks() {
    let registry = Path::new("/home/someone/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f");
    let cases = [
        (registry.join("serde_json-1.0.149"), "serde_json"),
        (registry.join("aes-0.9.0"), "aes"),
        // A dependency that happens to share the library's name.
        (registry.join("inspector-0.3.0"), "inspector"),
        // The fuzz targets and the runtime they link: ASan is linked into the
        // binary from here.
        (root().join("fuzz"), "conversation"),
        (root().join("fuzz"), "inspector_fuzz"),
    ];
    for (manifest, name) in cases {
        let args = wrapped(&manifest, name, LIBRARY_ONLY);
        assert!(has(&args, "-Zsanitizer=address"), "{name} ({}) lost ASan: {args:?}", manifest.display());
        assert!(!has(&args, "-Cunsafe-allow-abi-mismatch=sanitizer"), "{name}: {args:?}");
        assert!(!has(&args, "-Cpasses=sancov-module"), "{name} got coverage counters: {args:?}");
    }
}

/// The wrapper's reason for leaving the checks out of these two crates: a
/// check in code without `unsafe` can only fire in code of another crate
/// compiled into it. If either crate allows unsafe code, the wrapper must
/// check it again.
#[test]
fn the_crates_built_without_asan_checks_forbid_unsafe_code() {
    for lib in ["inspector/src/lib.rs", "tests/support/lib.rs"] {
        let text = std::fs::read_to_string(root().join(lib)).unwrap();
        assert!(
            text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
            "{lib} does not forbid unsafe code, and fuzz/rustc-sancov-ours.sh builds it without ASan's checks"
        );
    }
}
