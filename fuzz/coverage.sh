#!/usr/bin/env bash
# Line coverage of the library by the committed fuzz corpora, per target and
# for all targets together: `cargo fuzz coverage` replays corpus/<target>/
# and corpus/regressions/<target>/, `llvm-cov report` sums it up per file.
#
#   fuzz/coverage.sh                       # every target
#   fuzz/coverage.sh decode_bytes service  # some
#
# Output: fuzz/coverage/<target>.txt (llvm-cov's per-file table of the
# library's files), fuzz/coverage/summary.txt (each target's total line
# coverage of the library, and of the files it is meant to exercise), and
# fuzz/coverage/all.txt (every corpus together). The llvm tools must match
# rustc's LLVM: the script takes them from Debian's llvm-<N> package, which it
# installs when missing, N being the LLVM major version `rustc -vV` reports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf 'fuzz/coverage.sh: %s\n' "$*" >&2; }

toolchain=""
if cargo +nightly --version >/dev/null 2>&1; then
    toolchain="+nightly"
else
    export RUSTC_BOOTSTRAP=1
fi
# shellcheck disable=SC2086
llvm_major="$(rustc $toolchain -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
bin="/usr/lib/llvm-$llvm_major/bin"
if [ ! -x "$bin/llvm-cov" ]; then
    say "installing llvm-$llvm_major (llvm-cov and llvm-profdata matching rustc's LLVM)"
    if ! { apt-get install -y -q "llvm-$llvm_major" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "llvm-$llvm_major" >/dev/null 2>&1; }; }; then
        say "cannot install llvm-$llvm_major: install llvm-cov and llvm-profdata of LLVM $llvm_major and put them in $bin"
        exit 2
    fi
fi
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# The coverage build of a target: under fuzz/target or the workspace's
# target/, whichever cargo-fuzz used (a missing one is no error).
coverage_binary() {
    local d
    for d in fuzz/target target; do
        [ -d "$d" ] || continue
        find "$d" -path "*/coverage/*/release/$1" -type f | head -1
    done | head -1
}

out="fuzz/coverage"
mkdir -p "$out"
# Only the product library counts: not the test support, the fuzz crate or
# dependencies.
ignore='(/\.cargo/|/rustc/|tests/support/|/fuzz/(src|fuzz_targets)/|/build/grammers-)'
summary="$out/summary.txt"
printf '%-22s %8s %8s %7s\n' target lines missed cover >"$summary"
profiles=()
for t in "${targets[@]}"; do
    say "$t"
    corpus="$(mktemp -d)"
    cp -r "corpus/$t/." "$corpus/" 2>/dev/null || true
    cp -r "corpus/regressions/$t/." "$corpus/" 2>/dev/null || true
    rm -rf "fuzz/coverage/$t"
    # cargo-fuzz replays the corpus into raw profiles, then merges them with
    # the toolchain's llvm-profdata (rustup's llvm-tools component, which
    # this machine may lack); when that last step fails, merge with ours.
    # The committed corpus is what fuzzing kept: replayed, as fuzz/run.sh
    # replays what a run kept, with every costly check of conversation and
    # pcap_pipeline on every input (`Checks`, tests/support/fuzzing/mod.rs).
    # shellcheck disable=SC2086
    INSPECTOR_FUZZ_ALL_CHECKS=1 cargo $toolchain fuzz coverage --fuzz-dir fuzz "$t" "$corpus" >"$out/$t.log" 2>&1 || true
    rm -rf "$corpus"
    profile="fuzz/coverage/$t/coverage.profdata"
    if [ ! -f "$profile" ]; then
        raw="fuzz/coverage/$t/raw"
        if [ ! -d "$raw" ] || [ -z "$(ls -A "$raw")" ]; then
            say "$t: cargo fuzz coverage produced no profiles, see $out/$t.log"
            exit 1
        fi
        "$bin/llvm-profdata" merge -sparse "$raw" -o "$profile"
    fi
    binary="$(coverage_binary "$t")"
    profiles+=("$profile")
    "$bin/llvm-cov" report "$binary" -instr-profile="$profile" -ignore-filename-regex="$ignore" >"$out/$t.txt"
    total="$(grep '^TOTAL' "$out/$t.txt" | awk '{print $8, $9, $10}')"
    # shellcheck disable=SC2086
    printf '%-22s %8s %8s %7s\n' "$t" $total >>"$summary"
done
if [ "${#targets[@]}" -gt 1 ]; then
    "$bin/llvm-profdata" merge -sparse "${profiles[@]}" -o "$out/all.profdata"
    objects=()
    for t in "${targets[@]}"; do
        objects+=(-object "$(coverage_binary "$t")")
    done
    "$bin/llvm-cov" report "${objects[@]}" -instr-profile="$out/all.profdata" -ignore-filename-regex="$ignore" \
        >"$out/all.txt"
    printf '%-22s %8s %8s %7s\n' "all corpora" $(grep '^TOTAL' "$out/all.txt" | awk '{print $8, $9, $10}') >>"$summary"
    # Every corpus together, by stage: the TL core (with the code build.rs
    # generates), each decoding stage, and what drives and renders them.
    printf '\n%-22s %8s %8s %7s\n' "all corpora, by stage" lines missed cover >>"$summary"
    awk '
        function stage(f) {
            if (f ~ /\/out\/[a-z_]+\.rs$/ || f ~ /src\/tl\/[a-z_]+\.rs$/) return "tl (typed core)"
            if (f ~ /src\/tl\/dynamic\//) return "tl/dynamic"
            if (f ~ /src\/capture\.rs$/) return "capture"
            if (f ~ /src\/tcp\.rs$/) return "tcp"
            if (f ~ /src\/transport/) return "transport"
            if (f ~ /src\/envelope\.rs$/) return "envelope"
            if (f ~ /src\/service\.rs$/) return "service"
            if (f ~ /src\/pipeline\//) return "pipeline"
            if (f ~ /src\/report\//) return "report"
            if (f ~ /src\/render\//) return "render"
            return ""
        }
        $1 ~ /\.rs$/ { s = stage($1); if (s != "") { lines[s] += $8; missed[s] += $9 } }
        END {
            n = split("tl (typed core),tl/dynamic,capture,tcp,transport,envelope,service,pipeline,report,render", order, ",")
            for (i = 1; i <= n; i++) { s = order[i]; if (lines[s] > 0)
                printf "%-22s %8d %8d %6.2f%%\n", s, lines[s], missed[s], 100 * (lines[s] - missed[s]) / lines[s] }
        }' "$out/all.txt" >>"$summary"
fi
cat "$summary"
