#!/usr/bin/env bash
# One and two threads of `inspector pcap` on the two benchmark captures
# (issue 12): the table BENCHMARKS.md's "Threads" section gives.
#
#   client      capture_gen --shape client (many short connections, small
#               frames, a few large gzip answers, every transport), against
#               tshark -T fields -e tcp.len (goal: ≥ 20× tshark)
#   throughput  capture_gen's bulk shape (large frames), against the
#               machine's AES-256-IGE limit for the bytes it encrypts
#               (goal: ≥ 0.5 of the cores' combined limit)
#
# and on both, two threads against one (goal: ≥ 1.8× on two cores), after
# checking that both give the same report, byte for byte.
#
# Beside them, two one-thread runs of the same capture side by side, each
# pinned to a core of its own (`taskset`, when there is one): work that
# shares nothing but the machine. Their wall time against one run alone
# gives what the two cores can give any split of this work, the ceiling
# of the two-thread speed-up on this machine ("pair ceiling" in the
# table): 2 × one run's wall time over the pair's.
#
# Every command runs RUNS times, the one- and two-thread runs interleaved
# so that a change of load hits both alike; the table gives medians of wall
# time and of CPU time (user + sys). The speed-up is the ratio of wall
# times of the same run set; on a busy machine it says little, and the
# CPU columns say what the second thread costs. The load average is
# printed with the table.
#
# Environment: RUNS (default 5), TSHARK_RUNS (default 3), CLIENT_SIZE
# (default 100M), SIZE (default 200M), BENCH_DIR (default
# $CARGO_TARGET_DIR/capture-bench, captures are kept there and reused).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RUNS="${RUNS:-5}"
TSHARK_RUNS="${TSHARK_RUNS:-3}"
CLIENT_SIZE="${CLIENT_SIZE:-100M}"
SIZE="${SIZE:-200M}"
DIR="${BENCH_DIR:-$TARGET/capture-bench}"
INSPECTOR="$TARGET/release/inspector"
GEN="$TARGET/release/examples/capture_gen"

say() { printf '%s\n' "$*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { sed -n "s/^$2=//p" "$1.stats"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b <= 0) print "n/a"; else printf "%.2f", a / b }'; }

if ! [[ -x /usr/bin/time ]]; then
  say "GNU time (/usr/bin/time) is missing: it measures CPU time"
  exit 1
fi
mkdir -p "$DIR"
say "building release binaries in $TARGET"
(cd "$ROOT" && cargo build --release --quiet -p inspector --bin inspector && cargo build --release --quiet --example capture_gen)

# Captures are named by shape and size, so that another size is another file.
CFILE="$DIR/client-$CLIENT_SIZE.pcap"
TFILE="$DIR/throughput-$SIZE.pcap"
[[ -s "$CFILE" && -s "$CFILE.stats" ]] || "$GEN" generate "$CFILE" --size "$CLIENT_SIZE" --shape client >/dev/null
[[ -s "$TFILE" && -s "$TFILE.stats" ]] || "$GEN" generate "$TFILE" --size "$SIZE" >/dev/null

# "wall cpu" of one run, its output discarded.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$DIR/threads.time" "$@" >/dev/null 2>"$DIR/threads.err" || {
    say "failed: $*"
    cat "$DIR/threads.err" >&2
    exit 1
  }
  awk '{ print $1, $2 + $3 }' "$DIR/threads.time"
}

# "wall cpu" of two one-thread runs at once: the later one's wall time,
# the two CPU times added.
timed_pair() {
  local pin0=() pin1=()
  if command -v taskset >/dev/null 2>&1 && [[ $(nproc) -ge 2 ]]; then
    pin0=(taskset -c 0)
    pin1=(taskset -c 1)
  fi
  "${pin0[@]}" /usr/bin/time -f '%e %U %S' -o "$DIR/pair0.time" "$@" >/dev/null 2>"$DIR/pair0.err" &
  local p0=$!
  "${pin1[@]}" /usr/bin/time -f '%e %U %S' -o "$DIR/pair1.time" "$@" >/dev/null 2>"$DIR/pair1.err" &
  local p1=$!
  if ! wait "$p0" || ! wait "$p1"; then
    say "failed: $* (two at once)"
    cat "$DIR/pair0.err" "$DIR/pair1.err" >&2
    exit 1
  fi
  cat "$DIR/pair0.time" "$DIR/pair1.time" | awk '{ if ($1 > w) w = $1; c += $2 + $3 } END { print w, c }'
}

for f in "$CFILE" "$TFILE"; do
  : >"$f.t1"
  : >"$f.t2"
  : >"$f.pair"
done
# Before timing anything: the report on two threads is the report on one,
# byte for byte, on both captures (the issue's first condition; the corpus
# captures have tests/threads.rs). Compared by SHA-256, so that no report
# is kept on disk.
report_hash() { "$INSPECTOR" pcap "$1" --auth-key "@$1.key" --format json --threads "$2" | sha256sum | cut -d' ' -f1; }
SAME=""
for f in "$CFILE" "$TFILE"; do
  h1=$(report_hash "$f" 1)
  h2=$(report_hash "$f" 2)
  if [[ "$h1" != "$h2" ]]; then
    say "the reports of $f differ between 1 and 2 threads (sha256 $h1 against $h2)"
    exit 1
  fi
  SAME+="$(basename "$f") ${h1:0:16}…; "
done

say "running inspector $RUNS times on each capture, 1 and 2 threads interleaved"
for _ in $(seq "$RUNS"); do
  for f in "$CFILE" "$TFILE"; do
    timed "$INSPECTOR" pcap "$f" --auth-key "@$f.key" --format json --threads 1 >>"$f.t1"
    timed "$INSPECTOR" pcap "$f" --auth-key "@$f.key" --format json --threads 2 >>"$f.t2"
    timed_pair "$INSPECTOR" pcap "$f" --auth-key "@$f.key" --format json --threads 1 >>"$f.pair"
  done
done

: >"$CFILE.tshark"
if command -v tshark >/dev/null 2>&1; then
  say "running tshark $TSHARK_RUNS times on the client capture"
  for _ in $(seq "$TSHARK_RUNS"); do
    timed tshark -r "$CFILE" -T fields -e tcp.len >>"$CFILE.tshark"
  done
else
  say "tshark is not installed: its column is n/a (benches/capture.sh installs it)"
fi

ENC=$(stat_of "$TFILE" encrypted_bytes)
CHUNK=$((ENC / $(stat_of "$TFILE" encrypted_messages)))
: >"$TFILE.ige"
for _ in $(seq "$RUNS"); do
  # The helper prints the wall seconds of the decryption alone, on one core.
  "$GEN" ige-limit "$ENC" --chunk "$CHUNK" >>"$TFILE.ige"
done
IGE=$(median <"$TFILE.ige")

col() { awk -v c="$2" '{ print $c }' "$1" | median; }
echo
echo "machine: $(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS runs (tshark: $TSHARK_RUNS)"
echo
echo "reports on 1 and 2 threads byte for byte the same (sha256 of the JSON): ${SAME%; }"
echo
echo "| capture | threads | wall s | CPU s | MB/s wall | speed-up (wall) | goal |"
echo "|---|---:|---:|---:|---:|---:|---|"
PAIRS=""
for f in "$CFILE" "$TFILE"; do
  bytes=$(stat_of "$f" file_bytes)
  w1=$(col "$f.t1" 1)
  w2=$(col "$f.t2" 1)
  for t in 1 2; do
    w=$(col "$f.t$t" 1)
    c=$(col "$f.t$t" 2)
    mbps=$(awk -v b="$bytes" -v s="$w" 'BEGIN { printf "%.0f", b / s / 1e6 }')
    if [[ $t == 1 ]]; then up="1"; goal=""; else up="$(ratio "$w1" "$w2")×"; goal="≥ 1.8×"; fi
    echo "| $(basename "$f") ($bytes bytes) | $t | $w | $c | $mbps | $up | $goal |"
  done
  pw=$(col "$f.pair" 1)
  pc=$(col "$f.pair" 2)
  PAIRS+="| $(basename "$f") | $w1 | $pw | $pc | $(ratio "$(awk -v w="$w1" 'BEGIN { print 2 * w }')" "$pw")× | $(ratio "$w1" "$w2")× |"$'\n'
done
if [[ -s "$CFILE.tshark" ]]; then
  TW=$(col "$CFILE.tshark" 1)
  echo "| $(basename "$CFILE") | tshark -T fields -e tcp.len | $TW | $(col "$CFILE.tshark" 2) | | | |"
else
  TW=nan
fi
echo
echo "| ratio | 1 thread | 2 threads | goal |"
echo "|---|---:|---:|---|"
echo "| client: × tshark (wall) | $(ratio "$TW" "$(col "$CFILE.t1" 1)")× | $(ratio "$TW" "$(col "$CFILE.t2" 1)")× | ≥ 20× |"
# The cores' combined limit: one core's IGE time over the number of cores.
CORES=$(nproc)
echo "| throughput: of the cores' combined AES-IGE limit ($CORES × one core's ${IGE} s for $ENC bytes) | $(ratio "$IGE" "$(awk -v w="$(col "$TFILE.t1" 1)" -v n="$CORES" 'BEGIN { print w * n }')") | $(ratio "$IGE" "$(awk -v w="$(col "$TFILE.t2" 1)" -v n="$CORES" 'BEGIN { print w * n }')") | ≥ 0.5 |"
echo
echo "Two one-thread runs side by side, one per core (pair ceiling: 2 × one run's wall over the pair's):"
echo
echo "| capture | one run alone, wall s | two at once, wall s | two at once, CPU s (sum) | pair ceiling | 2 threads got |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s' "$PAIRS"
