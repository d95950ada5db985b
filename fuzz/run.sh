#!/usr/bin/env bash
# Run every fuzz target for a while; the one command for CI and developers.
#
#   fuzz/run.sh                      # 60 s per target
#   FUZZ_SECONDS=3600 fuzz/run.sh    # the long run
#   FUZZ_TARGETS="decode_bytes" fuzz/run.sh
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_RUNS     stop a target after this many executions instead
#                 (libFuzzer -runs; FUZZ_SECONDS still bounds the time):
#                 a campaign of a fixed size, FUZZ_RUNS=1000000
#   FUZZ_TARGETS  targets to run (default: all of fuzz/fuzz_targets/)
#   FUZZ_RSS_MB   libFuzzer -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT  seconds one input may take, libFuzzer -timeout (default 10)
#   FUZZ_MAX_LEN  longest input libFuzzer makes, -max_len (default: the
#                 target's line in fuzz/max_len.txt, else 8192)
# A target's line in fuzz/options.txt adds its own libFuzzer options.
#   FUZZ_WORK     scratch directory (default: a new temporary one)
#   FUZZ_JOBS     targets run side by side (default 1; FUZZ_JOBS=$(nproc)
#                 for a long run on every core)
#   FUZZ_MERGE    1: merge what the run found into corpus/<target>/,
#                 minimized with cargo fuzz cmin (otherwise corpus/ is
#                 never written)
#   FUZZ_SANITIZER  address (default: the best available) or none (stable
#                 with RUSTC_BOOTSTRAP=1 and no sanitizer: the fastest, and
#                 how the fallback path is exercised)
#   FUZZ_INSTRUMENT_DEPS  1: coverage instrumentation in every crate, as
#                 plain `cargo fuzz build` does (default: this repository's
#                 crates only, and for conversation and pcap_pipeline the
#                 library only: fuzz/rustc-sancov-ours.sh)
#   FUZZ_TRACE_COMPARES  1: comparison tracing as well, as plain `cargo
#                 fuzz build` does (default: without, --no-trace-compares)
#   FUZZ_ASAN_LIBFUZZER  1: libFuzzer's own C++ built with AddressSanitizer,
#                 as libfuzzer-sys builds it by default (default: without)
#   FUZZ_ASAN_OURS  1: conversation and pcap_pipeline fuzzed with
#                 AddressSanitizer's checks in the library and the
#                 test-support crate too (default: in the dependencies only
#                 while fuzzing, in every crate when what the run kept is
#                 replayed; see library_only below)
#   FUZZ_ASAN_FULL  1: AddressSanitizer's default options while fuzzing
#                 (default: no stack-use-after-return check, no
#                 allocation stacks, no checks in memcpy and a 10 MiB
#                 quarantine while fuzzing; tmin and the printed
#                 reproducing command always use the defaults)
#
# The committed seeds (corpus/<target>/) are copied into the scratch
# directory, which is the corpus libFuzzer grows, so the committed corpus is
# never polluted; corpus/regressions/<target>/ is read as well. On a failure
# the input is minimized, copied into corpus/regressions/<target>/ and the
# command that reproduces it is printed; the script then exits non-zero
# (after running the other targets, so one run reports everything).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2

seconds="${FUZZ_SECONDS:-60}"
rss_mb="${FUZZ_RSS_MB:-2048}"
timeout_s="${FUZZ_TIMEOUT:-10}"
max_len_for() { # target
    if [ -n "${FUZZ_MAX_LEN:-}" ]; then
        echo "$FUZZ_MAX_LEN"
        return
    fi
    local n
    n="$(awk -v t="$1" '$1 == t { print $2 }' fuzz/max_len.txt 2>/dev/null)"
    echo "${n:-8192}"
}
work="${FUZZ_WORK:-$(mktemp -d -t inspector-fuzz.XXXXXX)}"
mkdir -p "$work"

say() { printf 'fuzz/run.sh: %s\n' "$*" >&2; }

# cargo-fuzz, pinned: its command line and its layout are what this script and
# fuzz/Cargo.toml are written for.
if ! cargo fuzz --version 2>/dev/null | grep -q ' 0\.13\.2'; then
    say "installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --version 0.13.2 --locked || {
        say "cannot install cargo-fuzz"
        exit 2
    }
fi

# SanitizerCoverage (the edges and comparisons libFuzzer is guided by) in this
# repository's crates only: `cargo fuzz build` instruments the dependencies
# too (AES, SHA-256, inflate, serde_json, hashbrown, ...), whose edges cost
# libFuzzer's bookkeeping on every execution and guide nothing in our code.
# AddressSanitizer stays on in every crate. fuzz/rustc-sancov-ours.sh says
# how; FUZZING.md ("Sixth round") what it gains. Every cargo command below
# (build, run, tmin, cmin) sees the same RUSTC_WRAPPER and RUSTFLAGS, so
# none of them rebuilds; the targets in library_only (below) are run from a
# build of their own, in the library only.
if [ "${FUZZ_INSTRUMENT_DEPS:-0}" != 1 ] && [ "${RUSTC_WRAPPER:-}" != "$root/fuzz/rustc-sancov-ours.sh" ]; then
    if [ -n "${RUSTC_WRAPPER:-}" ]; then
        export INSPECTOR_FUZZ_NEXT_WRAPPER="$RUSTC_WRAPPER"
    fi
    export RUSTC_WRAPPER="$root/fuzz/rustc-sancov-ours.sh"
    export RUSTFLAGS="${RUSTFLAGS:-} --cfg=inspector_fuzz_sancov_ours"
fi
# The wrapper's INSPECTOR_FUZZ_ASAN is set for the library-only build's runs
# only (fuzz_one, below): the common build, which the replays, tmin and cmin
# use, keeps AddressSanitizer's checks in every crate.
unset INSPECTOR_FUZZ_ASAN

# libFuzzer itself without AddressSanitizer. libfuzzer-sys compiles
# libFuzzer's C++ with the `cc` crate, and cc (1.11 in fuzz/Cargo.lock)
# adds -fsanitize=address to C and C++ whenever rustc instruments the Rust
# code for it (CARGO_CFG_SANITIZE). libFuzzer's own loop then paid ASan's
# checks on every memory access, most of all in the callback it runs for
# every feature of every execution (a 1.5 KiB stack frame poisoned and
# cleared per call): 1.09-1.65 times as many executions a CPU second
# without (FUZZING.md, "Ninth round"). clang's own -fsanitize=fuzzer,address
# links libFuzzer uninstrumented too (a compiler-rt runtime). cc's
# documented way to undo its flag is -fno-sanitize=address in CXXFLAGS; the
# only C++ in the fuzz build is libFuzzer (SQLite and jemalloc are C, built
# with CFLAGS), so our crates and every Rust dependency keep AddressSanitizer.
# FUZZ_ASAN_LIBFUZZER=1 builds the old way.
if [ "${FUZZ_ASAN_LIBFUZZER:-0}" != 1 ]; then
    export CXXFLAGS="${CXXFLAGS:+$CXXFLAGS }-fno-sanitize=address"
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    targets=()
    for f in fuzz/fuzz_targets/*.rs; do
        t="$(basename "$f" .rs)"
        targets+=("$t")
    done
fi

# The toolchain and sanitizer, best first. A sanitizer-instrumented build
# needs unstable rustc flags: nightly has them; stable lets them through with
# RUSTC_BOOTSTRAP=1. Without AddressSanitizer, Rust's own checks (bounds,
# overflow with -a, panics) still catch most of what matters here.
toolchain=""
sanitizer=""
mode=""
# Every cargo fuzz command (build, run, tmin, cmin, and the reproducing
# command printed for a finding) gets the same flags, so none rebuilds.
# -a: debug assertions. --no-trace-compares: libFuzzer is guided by edges
# alone, without a callback for every integer comparison and switch in our
# crates. Those callbacks cost more than they found: built without them,
# every target but capture_file ran 1.2-2.2 times as many inputs a CPU
# second, and from an empty corpus reached as many edges in equal CPU time
# (FUZZING.md, "Eighth round"). The dictionaries (fuzz/dicts/) give the
# mutator the constants comparison tracing would have shown it.
fuzz_flags="--fuzz-dir fuzz -a"
if [ "${FUZZ_TRACE_COMPARES:-0}" != 1 ]; then
    fuzz_flags="$fuzz_flags --no-trace-compares"
fi
build() { # toolchain-argument sanitizer; builds every target
    # shellcheck disable=SC2086
    cargo $1 fuzz build $fuzz_flags -s "$2" >"$work/build.log" 2>&1
}
want="${FUZZ_SANITIZER:-address}"
case "$want" in address | none) ;; *) say "FUZZ_SANITIZER must be address or none"; exit 2 ;; esac
if [ "$want" = address ] && cargo +nightly --version >/dev/null 2>&1 && build +nightly address; then
    toolchain="+nightly"
    sanitizer="address"
    mode="nightly with AddressSanitizer"
else
    # Cargo caches what it learnt about rustc in target/.rustc_info.json; a
    # cache from another toolchain or without RUSTC_BOOTSTRAP would be wrong.
    rm -f fuzz/target/.rustc_info.json
    export RUSTC_BOOTSTRAP=1
    if [ "$want" = address ] && build "" address; then
        sanitizer="address"
        mode="stable with RUSTC_BOOTSTRAP=1 and AddressSanitizer"
    elif build "" none; then
        sanitizer="none"
        mode="stable with RUSTC_BOOTSTRAP=1, no sanitizer (--sanitizer none)"
    else
        say "the fuzz targets do not build; the last attempt said:"
        tail -n 40 "$work/build.log" >&2
        exit 2
    fi
fi
say "toolchain: $mode"

# AddressSanitizer's options while fuzzing (not for tmin, cmin or the
# reproducing command, which keep the defaults and whatever ASAN_OPTIONS
# says). Three defaults cost a quarter to a third of most targets' time
# (1.3-1.7 times as many inputs a CPU second without the first two;
# FUZZING.md, "Eighth round"; the third: "Tenth round"), and none changes
# what our code can get wrong:
# - detect_stack_use_after_return=0, the larger part: with it on (the
#   default since LLVM 15) every call of a function with a stack buffer
#   takes its frame from ASan's fake stack. A pointer to a returned frame
#   is a compile error in safe Rust, and our crates forbid unsafe code, so
#   only a dependency's unsafe code could make one.
# - malloc_context_size=0: no stack trace recorded at every allocation and
#   free (it pays on the targets that allocate most, render and
#   decode_bytes). A heap error is still caught and reported with the
#   stack of the bad access; only "allocated by"/"freed by" are missing
#   from that first report, and the reproducing command prints them.
# - replace_intrin=0: memcpy, memmove and memset (every move of a large
#   value, every slice copy) go straight to libc instead of through ASan's
#   wrappers, which first check that both whole ranges are addressable.
#   Our crates forbid unsafe code, so every such range in them was bounds
#   checked by Rust before the copy; only a dependency's unsafe code could
#   pass a bad one (its ordinary loads and stores are still checked).
# And one that is OSS-Fuzz's and ClusterFuzz's own (their runners'
# ASAN_OPTIONS, which ClusterFuzzLite uses too):
# - quarantine_size_mb=10, not 256: freed memory waits in the quarantine
#   (poisoned, so a use after free is caught) until 10 MiB more has been
#   freed, some twenty executions of conversation, the target that frees
#   most. With 256 MiB every allocation reused memory that had long left
#   the caches (FUZZING.md, "Eleventh round").
fuzz_asan_options="${ASAN_OPTIONS:-}"
if [ "$sanitizer" = address ] && [ "${FUZZ_ASAN_FULL:-0}" != 1 ]; then
    fuzz_asan_options="detect_stack_use_after_return=0:malloc_context_size=0:replace_intrin=0:quarantine_size_mb=10${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi
say "running ${#targets[@]} targets for ${seconds}s each; scratch directory: $work"

# Targets built with coverage instrumentation in the library (crate
# `inspector`) only, not in their harness: each execution writes a capture
# with the fixture writer and checks the report, and those edges were half
# of what the target covered, each costing libFuzzer's per-feature
# bookkeeping on every execution; 1.3 times as many inputs a second without
# them (FUZZING.md, "Tenth round"). Built in a target directory of their
# own, so that neither build undoes the other. tmin, cmin and the printed
# reproducing command use the common build: a failure does not depend on
# coverage instrumentation.
#
# With AddressSanitizer, that build also leaves the sanitizer's checks out
# of the library and the test-support crate (FUZZ_ASAN_OURS=1 keeps them):
# both forbid unsafe code, so a check there can only catch a fault in
# standard-library or dependency code inlined into them. The runtime (its
# allocator, redzones and quarantine) and every dependency's own code keep
# the checks, and every input the run kept is replayed afterwards in the
# common build, where every crate has them (all_checks_after below). The
# checks were a third of these targets' time, and since rustc adds coverage
# instrumentation after AddressSanitizer, their branches were three in five
# of the library's coverage counters (fuzz/rustc-sancov-ours.sh; FUZZING.md,
# "Fifteenth round").
library_only=" conversation pcap_pipeline "
library_asan=all
if [ "$sanitizer" = address ] && [ "${FUZZ_ASAN_OURS:-0}" != 1 ] && [ "${RUSTC_WRAPPER:-}" = "$root/fuzz/rustc-sancov-ours.sh" ]; then
    library_asan=dependencies
fi

# Targets whose costly checks (the text report, the run on two threads, and
# pcap_pipeline's reader that goes away and small connection limits) run on
# a sample of the inputs while fuzzing, chosen by the inputs' bytes. After a
# run, every input it kept (its corpus, with the seeds and regressions) is
# replayed with all of them (INSPECTOR_FUZZ_ALL_CHECKS=1; `Checks` in
# tests/support/fuzzing/mod.rs), in the common build, so every input that
# added coverage is checked in full and with AddressSanitizer in every
# crate; a failure there is a finding like any other. tmin and the printed
# reproducing command get the same variable.
all_checks_after=" conversation pcap_pipeline "

fuzz_one() { # target; writes $work/rows/$t and returns non-zero on a finding
    local t="$1" seeds regressions live artifacts log rc execs speed last cov corp result found small kept
    seeds="corpus/$t"
    regressions="corpus/regressions/$t"
    live="$work/corpus/$t"
    artifacts="$work/artifacts/$t"
    mkdir -p "$live" "$artifacts" "$regressions"
    if [ -d "$seeds" ]; then
        cp -R "$seeds/." "$live/"
    fi
    rm -f "$live/.gitkeep"
    log="$work/$t.log"
    say "fuzzing $t"
    local dict=()
    if [ -f "fuzz/dicts/$t.dict" ]; then
        dict=("-dict=fuzz/dicts/$t.dict")
    fi
    # The target's own libFuzzer options (fuzz/options.txt).
    local extra=()
    read -r -a extra <<<"$(awk -v t="$t" '$1 == t { $1 = ""; print }' fuzz/options.txt 2>/dev/null)"
    local runs=()
    if [ -n "${FUZZ_RUNS:-}" ]; then
        runs=("-runs=$FUZZ_RUNS")
    fi
    local run_flags="$fuzz_flags" sancov="${INSPECTOR_FUZZ_SANCOV:-repository}" rustflags="${RUSTFLAGS:-}"
    local asan=all
    if [ "${RUSTC_WRAPPER:-}" = "$root/fuzz/rustc-sancov-ours.sh" ] && [[ "$library_only" == *" $t "* ]]; then
        run_flags="$fuzz_flags --target-dir fuzz/target/library-only"
        sancov=library
        rustflags="${rustflags/--cfg=inspector_fuzz_sancov_ours/--cfg=inspector_fuzz_sancov_library}"
        if [ "$library_asan" = dependencies ]; then
            asan=dependencies
            rustflags="$rustflags --cfg=inspector_fuzz_asan_dependencies"
        fi
    fi
    # The first corpus directory is the one libFuzzer adds to; the others are
    # only read.
    # shellcheck disable=SC2086
    ASAN_OPTIONS="$fuzz_asan_options" INSPECTOR_FUZZ_SANCOV="$sancov" INSPECTOR_FUZZ_ASAN="$asan" RUSTFLAGS="$rustflags" \
        cargo $toolchain fuzz run $run_flags -s "$sanitizer" "$t" "$live" "$regressions" -- \
        -max_total_time="$seconds" "${runs[@]}" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
        -max_len="$(max_len_for "$t")" "${dict[@]}" "${extra[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?

    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    last="$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")"
    local all_env=()
    if [[ "$all_checks_after" == *" $t "* ]]; then
        all_env=(INSPECTOR_FUZZ_ALL_CHECKS=1)
        if [ "$rc" -eq 0 ]; then
            say "replaying the $(find "$live" "$regressions" -type f ! -name .gitkeep | wc -l) inputs $t kept with all its checks"
            log="$work/$t.all-checks.log"
            # -runs=0: every input once, nothing mutated and nothing written
            # to the corpus. The common build: AddressSanitizer in every
            # crate.
            # shellcheck disable=SC2086
            env "${all_env[@]}" ASAN_OPTIONS="$fuzz_asan_options" \
                cargo $toolchain fuzz run $fuzz_flags -s "$sanitizer" "$t" "$live" "$regressions" -- \
                -runs=0 -rss_limit_mb="$rss_mb" -timeout="$timeout_s" -max_len="$(max_len_for "$t")" \
                -artifact_prefix="$artifacts/" >"$log" 2>&1
            rc=$?
        fi
    fi
    if [ "$rc" -eq 0 ]; then
        result="ok"
    else
        result="FAILED"
        say "$t failed (exit $rc); the end of its log ($log):"
        tail -n 60 "$log" >&2
        for found in "$artifacts"/*; do
            [ -f "$found" ] || continue
            case "$(basename "$found")" in minimized-from-* | slow-unit-*) continue ;; esac
            # tmin keeps the failure while shrinking the input; it writes
            # minimized-from-<hash> beside the input.
            # shellcheck disable=SC2086
            env "${all_env[@]}" cargo $toolchain fuzz tmin $fuzz_flags -s "$sanitizer" "$t" "$found" -- \
                -rss_limit_mb="$rss_mb" -timeout="$timeout_s" >"$work/$t.tmin.log" 2>&1
            # cargo-fuzz writes the minimized inputs under fuzz/artifacts/
            # and names the smallest one last, in its "Reproduce with" line.
            small="$(grep -o 'fuzz/artifacts/[^ ]*minimized-from-[0-9a-f]*' "$work/$t.tmin.log" | tail -n 1)"
            [ -n "$small" ] && [ -f "$small" ] || small="$found"
            kept="$regressions/$(basename "$found")"
            cp "$small" "$kept"
            result="FAILED: $kept"
            say "kept the minimized input as $kept; reproduce with:"
            if [ -n "$toolchain" ]; then
                say "  ${all_env[*]}${all_env[*]:+ }cargo $toolchain fuzz run $fuzz_flags -s $sanitizer $t $kept"
            else
                say "  ${all_env[*]}${all_env[*]:+ }RUSTC_BOOTSTRAP=1 cargo fuzz run $fuzz_flags -s $sanitizer $t $kept"
            fi
            say "  cargo test --test corpus_replay   (stable, replays every corpus file)"
        done
    fi
    printf '%s\n' "$t|${execs:-?}|${speed:-?}|${cov:-?}|${corp:-?}|$result" >"$work/rows/$t"
    [ "$result" = ok ]
}

# Targets run side by side, FUZZ_JOBS at a time (default 1; the long run:
# FUZZ_JOBS=$(nproc)). Each target is one libFuzzer process, so N jobs use
# N cores.
jobs="${FUZZ_JOBS:-1}"
mkdir -p "$work/rows"
status=0
running=0
for t in "${targets[@]}"; do
    if [ "$jobs" -le 1 ]; then
        fuzz_one "$t" || status=1
        continue
    fi
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
rows=()
for t in "${targets[@]}"; do
    rows+=("$(cat "$work/rows/$t" 2>/dev/null || echo "$t|?|?|?|?|no result")")
done

# FUZZ_MERGE=1: what the run found goes into corpus/<target>/, minimized
# with the committed seeds (cargo fuzz cmin), and the change is listed;
# without it corpus/ is never touched.
if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    for t in "${targets[@]}"; do
        merged="$work/merged/$t"
        mkdir -p "$merged"
        cp -R "corpus/$t/." "$merged/" 2>/dev/null || true
        cp -R "$work/corpus/$t/." "$merged/" 2>/dev/null || true
        rm -f "$merged/.gitkeep"
        before="$(ls "corpus/$t" 2>/dev/null | wc -l)"
        # shellcheck disable=SC2086
        if cargo $toolchain fuzz cmin $fuzz_flags -s "$sanitizer" "$t" "$merged" -- \
            -rss_limit_mb="$rss_mb" -timeout="$timeout_s" >"$work/$t.cmin.log" 2>&1; then
            mkdir -p "corpus/$t"
            find "corpus/$t" -maxdepth 1 -type f ! -name .gitkeep -delete
            cp -R "$merged/." "corpus/$t/"
            say "corpus/$t: $before files before, $(ls "corpus/$t" | wc -l) after merging and minimizing (review with git status)"
        else
            say "cargo fuzz cmin failed for $t, corpus/$t left as it was: see $work/$t.cmin.log"
            status=1
        fi
    done
fi

printf '\nsanitizer: %s, %ss per target\n' "$mode" "$seconds"
if [ "$library_asan" = dependencies ]; then
    checked_after=()
    for t in "${targets[@]}"; do
        [[ "$library_only" == *" $t "* ]] && checked_after+=("$t")
    done
    if [ "${#checked_after[@]}" -gt 0 ]; then
        printf '(%s: fuzzed with the checks in the dependencies only, not in our two crates, which\n forbid unsafe code; what each run kept was then replayed with the checks in every crate)\n' "${checked_after[*]}"
    fi
fi
printf '%-18s %12s %8s %8s %8s  %s\n' target executions exec/s "cov" corpus result
for row in "${rows[@]}"; do
    IFS='|' read -r t execs speed cov corp result <<<"$row"
    printf '%-18s %12s %8s %8s %8s  %s\n' "$t" "$execs" "$speed" "$cov" "$corp" "$result"
done
exit "$status"
