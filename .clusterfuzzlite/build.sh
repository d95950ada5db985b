#!/bin/bash -eu
# Builds every fuzz target for ClusterFuzzLite / OSS-Fuzz and puts into $OUT,
# for each target T: the binary T, its seed corpus T_seed_corpus.zip (the
# committed seeds and past findings), its dictionary T.dict and T.options
# (libFuzzer's max_len and fuzz/options.txt). Checked locally by fuzz/cflite-check.sh, which calls
# this script the way the builder image does.
cd "$SRC/inspector"

case "${SANITIZER:-address}" in
    address) sanitizer=address ;;
    memory) sanitizer=memory ;;
    undefined | coverage | introspector | none) sanitizer=none ;;
    *) echo "build.sh: unknown SANITIZER=$SANITIZER" >&2; exit 1 ;;
esac

# SanitizerCoverage in this repository's crates only, as fuzz/run.sh builds:
# dependencies' edges (AES, SHA-256, inflate, serde_json, ...) cost
# libFuzzer's bookkeeping on every execution and guide nothing in our code;
# AddressSanitizer stays on everywhere. fuzz/rustc-sancov-ours.sh says how.
# Not for coverage or introspector builds, which measure every line.
case "${SANITIZER:-address}" in
    coverage | introspector) ;;
    *)
        if [ -n "${RUSTC_WRAPPER:-}" ] && [ "$RUSTC_WRAPPER" != "$PWD/fuzz/rustc-sancov-ours.sh" ]; then
            export INSPECTOR_FUZZ_NEXT_WRAPPER="$RUSTC_WRAPPER"
        fi
        export RUSTC_WRAPPER="$PWD/fuzz/rustc-sancov-ours.sh"
        export RUSTFLAGS="${RUSTFLAGS:-} --cfg=inspector_fuzz_sancov_ours"
        ;;
esac

# -O: optimized, with debug assertions (cargo-fuzz's default for fuzzing).
# --no-trace-compares: guided by edges alone, as fuzz/run.sh builds (the
# comparison callbacks cost more than they found; FUZZING.md, "Eighth
# round"); the dictionaries below give the mutator the constants.
cargo fuzz build -O --no-trace-compares --fuzz-dir fuzz -s "$sanitizer"

bin_dir="fuzz/target/x86_64-unknown-linux-gnu/release"
for src in fuzz/fuzz_targets/*.rs; do
    target="$(basename "$src" .rs)"
    cp "$bin_dir/$target" "$OUT/"
    seeds="$(mktemp -d)"
    for dir in "corpus/$target" "corpus/regressions/$target"; do
        if [ -d "$dir" ]; then
            cp -r "$dir/." "$seeds/"
        fi
    done
    (cd "$seeds" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    rm -rf "$seeds"
    if [ -f "fuzz/dicts/$target.dict" ]; then
        cp "fuzz/dicts/$target.dict" "$OUT/$target.dict"
    fi
    max_len="$(awk -v t="$target" '$1 == t { print $2 }' fuzz/max_len.txt)"
    printf '[libfuzzer]\nmax_len = %s\n' "${max_len:-8192}" >"$OUT/$target.options"
    # fuzz/options.txt: the target's own libFuzzer options, -name=value.
    awk -v t="$target" '$1 == t { for (i = 2; i <= NF; i++) { sub(/^-/, "", $i); sub(/=/, " = ", $i); print $i } }' \
        fuzz/options.txt >>"$OUT/$target.options"
done
