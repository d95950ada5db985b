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
# other flag stays: AddressSanitizer (but see INSPECTOR_FUZZ_ASAN below),
# --cfg fuzzing and debug assertions are still on in every crate. Generic
# and #[inline] code of a dependency that is compiled into our crates is
# instrumented there, as our code is.
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
#
# INSPECTOR_FUZZ_ASAN=dependencies leaves AddressSanitizer's checks out of
# the library and the test-support crate (crates `inspector` and
# `inspector_tests`), and only them: the runtime (its allocator, redzones
# and quarantine) and every dependency keep it. Both crates forbid unsafe
# code, so a check in them can only fire in code of the standard library or
# a dependency that is generic or inlined and was compiled into them; the
# same code compiled in its own crate stays checked. fuzz/run.sh builds the
# library-only targets this way, with the marker
# --cfg=inspector_fuzz_asan_dependencies (removed here), and replays every
# input a run kept in the common build, where every crate has the checks.
# Two reasons: the checks were a third of those targets' time, and rustc
# runs SanitizerCoverage after AddressSanitizer, so the branches of every
# shadow-memory check became coverage counters (the library has 39,208
# with the checks, 15,746 without): features that follow allocation sizes
# and alignment, not the code's logic (FUZZING.md, "Fifteenth round").
# -Cunsafe-allow-abi-mismatch=sanitizer tells rustc that linking these
# crates with instrumented ones is meant (rustc 1.95 and this nightly do
# not ask for it yet; one that treats the sanitizer as part of a crate's
# ABI would).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
rustc="$1"
shift

in_repository=1
if [ -n "${CARGO_MANIFEST_DIR:-}" ]; then
    manifest="$(cd "$CARGO_MANIFEST_DIR" 2>/dev/null && pwd -P || printf '%s' "$CARGO_MANIFEST_DIR")"
    case "$manifest/" in
    */registry/src/* | */git/checkouts/* | */vendor/*) in_repository=0 ;;
    "$root"/*) in_repository=1 ;;
    *) in_repository=0 ;;
    esac
fi

# ours: this crate gets coverage instrumentation.
ours="$in_repository"
if [ "$ours" = 1 ] && [ "${INSPECTOR_FUZZ_SANCOV:-repository}" = library ] && [ "${CARGO_CRATE_NAME:-}" != inspector ]; then
    ours=0
fi

# unchecked: this crate is built without AddressSanitizer's checks.
unchecked=0
if [ "$in_repository" = 1 ] && [ "${INSPECTOR_FUZZ_ASAN:-all}" = dependencies ]; then
    case "${CARGO_CRATE_NAME:-}" in
    inspector | inspector_tests) unchecked=1 ;;
    esac
fi

args=()
while [ $# -gt 0 ]; do
    a="$1"
    shift
    case "$a" in
    --cfg=inspector_fuzz_sancov_ours | --cfg=inspector_fuzz_sancov_library | --cfg=inspector_fuzz_asan_dependencies) continue ;;
    esac
    if [ "$unchecked" = 1 ]; then
        case "$a" in
        -Zsanitizer=address | -Csanitizer=address)
            args+=(-Cunsafe-allow-abi-mismatch=sanitizer)
            continue
            ;;
        esac
    fi
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
