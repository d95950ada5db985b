#!/usr/bin/env bash
# RUSTC_WRAPPER for the fuzz builds: coverage instrumentation (SanitizerCoverage)
# for this repository's crates only.
#
# `cargo fuzz build` puts its SanitizerCoverage flags (-Cpasses=sancov-module,
# -Cllvm-args=-sanitizer-coverage-*) in RUSTFLAGS, so every crate is
# instrumented, dependencies included: every edge and comparison inside AES,
# SHA-256, inflate, serde_json or hashbrown costs libFuzzer's bookkeeping on
# every execution and guides nothing in our code. This wrapper drops those
# flags when cargo compiles a crate whose manifest is outside this
# repository (cargo sets CARGO_MANIFEST_DIR for every rustc it runs). Every
# other flag stays: AddressSanitizer, --cfg fuzzing and debug assertions are
# still on in every crate. Generic and #[inline] code of a dependency that is
# compiled into our crates is instrumented there, as our code is.
#
# LLVM 22 (nightly rustc's) has no command-line option for a SanitizerCoverage
# ignore list or allow list (clang's -fsanitize-coverage-ignorelist= sets the
# pass's options directly), hence a wrapper. fuzz/run.sh and
# .clusterfuzzlite/build.sh use it; fuzz/coverage.sh does not (its coverage
# build measures every line by other means). FUZZING.md, "Sixth round".
#
# cargo runs `$RUSTC_WRAPPER rustc <args>`. A wrapper that was set before
# (sccache, say) can be kept in INSPECTOR_FUZZ_NEXT_WRAPPER.
#
# The marker --cfg=inspector_fuzz_sancov_ours in RUSTFLAGS is only there so
# that cargo's fingerprints differ from a build without this wrapper (cargo
# does not rebuild when only RUSTC_WRAPPER changes); it is removed here.
#
# INSPECTOR_FUZZ_SANCOV=library narrows the instrumentation to the library
# under test, the `inspector` crate (CARGO_CRATE_NAME): the test-support
# crate (the fixture writer, the properties) and the fuzz targets' own files
# are left out too. fuzz/run.sh builds the targets whose harness is a
# fixture writer and a checker this way (conversation, pcap_pipeline), in a
# target directory of their own and with the marker
# --cfg=inspector_fuzz_sancov_library, also removed here: their harness's
# edges were half of those they covered, each costing libFuzzer's
# per-feature bookkeeping on every execution (FUZZING.md, "Tenth round").
# The other targets keep their harness instrumented: the reference models
# of tcp_reassembly or differential tell inputs apart where the library's
# edges do not.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
rustc="$1"
shift

ours=1
if [ -n "${CARGO_MANIFEST_DIR:-}" ]; then
    manifest="$(cd "$CARGO_MANIFEST_DIR" 2>/dev/null && pwd -P || printf '%s' "$CARGO_MANIFEST_DIR")"
    case "$manifest/" in
    */registry/src/* | */git/checkouts/* | */vendor/*) ours=0 ;;
    "$root"/*) ours=1 ;;
    *) ours=0 ;;
    esac
fi

if [ "$ours" = 1 ] && [ "${INSPECTOR_FUZZ_SANCOV:-repository}" = library ] && [ "${CARGO_CRATE_NAME:-}" != inspector ]; then
    ours=0
fi

args=()
while [ $# -gt 0 ]; do
    a="$1"
    shift
    case "$a" in
    --cfg=inspector_fuzz_sancov_ours | --cfg=inspector_fuzz_sancov_library) continue ;;
    esac
    if [ "$ours" = 0 ]; then
        case "$a" in
        -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) continue ;;
        -C)
            case "${1:-}" in
            passes=sancov-module | llvm-args=-sanitizer-coverage-*)
                shift
                continue
                ;;
            esac
            ;;
        esac
    fi
    args+=("$a")
done

if [ -n "${INSPECTOR_FUZZ_NEXT_WRAPPER:-}" ] && [ "$INSPECTOR_FUZZ_NEXT_WRAPPER" != "${BASH_SOURCE[0]}" ]; then
    exec "$INSPECTOR_FUZZ_NEXT_WRAPPER" "$rustc" "${args[@]}"
fi
exec "$rustc" "${args[@]}"
