#!/usr/bin/env bash
# Line coverage of the library by `cargo test --workspace` (cargo-llvm-cov),
# per file, with the llvm tools that match rustc's LLVM (Debian's llvm-<N>,
# installed when missing, as fuzz/coverage.sh does).
#
#   ./tests-coverage.sh            # the per-file table on stdout
#   ./tests-coverage.sh --html     # and an HTML report in target/llvm-cov/html
#   ./tests-coverage.sh --missing  # and, after it, the lines no test runs
#
# The table counts a line of a generic function once per instantiation
# (missed if any instantiation skips it); the --missing list, like the HTML
# report, names only the lines that no instantiation ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
say() { printf 'tests-coverage.sh: %s\n' "$*" >&2; }

llvm_major="$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
bin="/usr/lib/llvm-$llvm_major/bin"
if [ ! -x "$bin/llvm-cov" ]; then
    say "installing llvm-$llvm_major (llvm-cov and llvm-profdata matching rustc's LLVM)"
    apt-get install -y -q "llvm-$llvm_major" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "llvm-$llvm_major" >/dev/null 2>&1; } ||
        { say "cannot install llvm-$llvm_major"; exit 2; }
fi
if ! cargo llvm-cov --version >/dev/null 2>&1; then
    say "installing cargo-llvm-cov"
    cargo install cargo-llvm-cov --locked || { say "cannot install cargo-llvm-cov"; exit 2; }
fi
export LLVM_COV="$bin/llvm-cov" LLVM_PROFDATA="$bin/llvm-profdata" INSTA_UPDATE=no
# Only the product library counts: not the tests, their support crate,
# the benches or examples.
ignore='(tests/|benches/|examples/|fuzz/|build\.rs)'
extra=()
case "${1:-}" in
    --html) extra=(--html) ;;
    --missing) extra=(--show-missing-lines) ;;
esac
cargo llvm-cov --workspace --ignore-filename-regex "$ignore" "${extra[@]}" -- --quiet
