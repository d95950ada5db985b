#!/usr/bin/env bash
# Checks .clusterfuzzlite/build.sh the way the OSS-Fuzz builder image calls
# it, without Docker (there is no daemon here): a copy of the repository in
# $SRC/inspector, an empty $OUT, $SANITIZER set, then build.sh; and checks
# that $OUT holds, for every target, its binary, seed corpus zip, dictionary
# and options file, and that each binary runs a few inputs from its seeds.
#
#   fuzz/cflite-check.sh            # SANITIZER=address (nightly if present)
#   SANITIZER=none fuzz/cflite-check.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d -t cflite-check.XXXXXX)"
export SRC="$work/src" OUT="$work/out" SANITIZER="${SANITIZER:-address}"
mkdir -p "$SRC" "$OUT"
say() { printf 'cflite-check: %s\n' "$*" >&2; }

command -v zip >/dev/null || { say "installing zip"; apt-get install -y -q zip >/dev/null; }
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --version 0.13.2 --locked

# The builder image builds with nightly; stable does with RUSTC_BOOTSTRAP=1.
if cargo +nightly --version >/dev/null 2>&1; then
    export RUSTUP_TOOLCHAIN=nightly
else
    export RUSTC_BOOTSTRAP=1
fi

# What the Dockerfile's COPY does: the repository's files, not its build output.
mkdir -p "$SRC/inspector"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -x -C "$SRC/inspector"
# Reuse the fuzz build cache, so a second check is quick.
# Not fuzz/target/library-only (fuzz/run.sh's second build, which build.sh
# never uses; several GiB).
if [ -d "$root/fuzz/target" ]; then
    mkdir -p "$SRC/inspector/fuzz/target"
    for part in "$root"/fuzz/target/*; do
        [ "$(basename "$part")" = library-only ] || cp -r "$part" "$SRC/inspector/fuzz/target/"
    done
fi
# The copy and its build are as large as fuzz/target: gone at the end, and
# $OUT (what the check looks at) stays.
trap 'rm -rf "$SRC"' EXIT

bash "$root/.clusterfuzzlite/build.sh"

status=0
for src in "$root"/fuzz/fuzz_targets/*.rs; do
    t="$(basename "$src" .rs)"
    for f in "$t" "${t}_seed_corpus.zip" "$t.options"; do
        [ -s "$OUT/$f" ] || { say "missing \$OUT/$f"; status=1; }
    done
    if [ -f "$root/fuzz/dicts/$t.dict" ] && [ ! -s "$OUT/$t.dict" ]; then
        say "missing \$OUT/$t.dict"
        status=1
    fi
    if [ -x "$OUT/$t" ]; then
        seeds="$(mktemp -d)"
        (cd "$seeds" && unzip -q "$OUT/${t}_seed_corpus.zip")
        dict=()
        [ -f "$OUT/$t.dict" ] && dict=("-dict=$OUT/$t.dict")
        if ! "$OUT/$t" "${dict[@]}" -runs=200 "$seeds" >"$work/$t.log" 2>&1; then
            say "$t failed on its seeds: see $work/$t.log"
            status=1
        else
            say "$t: ok ($(ls "$seeds" | wc -l) seeds)"
        fi
        rm -rf "$seeds"
    fi
done
[ "$status" = 0 ] && say "every target, seed corpus, dictionary and options file is in \$OUT ($OUT)"
exit "$status"
