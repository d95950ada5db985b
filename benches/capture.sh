#!/usr/bin/env bash
# Capture throughput and memory of `inspector pcap` (issue 5, parts 2 and 3).
#
# Builds the release binaries, writes synthetic captures once with
# examples/capture_gen.rs (the capture fixture writer, streamed), then runs
# each command several times and prints medians and ratios:
#
#   throughput  inspector pcap FILE --auth-key KEY --format json --threads 1 > /dev/null
#               the same with --threads 2
#               tshark -r FILE -T fields -e tcp.len > /dev/null
#               AES-256-IGE decryption of as many bytes as FILE encrypts
#               on two captures: bulk transfers (large answers and segments)
#               and real-client-shaped traffic (capture_gen --shape client:
#               many short connections, small frames, a few large gzip
#               answers, every transport)
#   memory      peak RSS of inspector pcap on 50 MB, 500 MB and 2 GB, on a
#               connection with 4 MiB and 16 MiB frames, on one that
#               never closes, and on a scan of 200,000 connections left open
#
# The machine is shared, so every figure is set against a peer measured in
# the same run; MB/s are 10^6 bytes of capture file per second, by wall
# clock and by CPU time (user + sys, which load on other cores inflates
# less). Nothing here asserts a time.
#
# Environment: RUNS (default 5), TSHARK_RUNS (default 3), SIZE (default
# 500M, the throughput capture), CLIENT_SIZE (default 200M, the
# client-shaped capture), BENCH_DIR (where captures go, default
# $CARGO_TARGET_DIR/capture-bench), KEEP=1 to keep the captures, SKIP_2G=1
# to leave out the 2 GB memory run, NO_INSTALL=1 not to apt-get tshark.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RUNS="${RUNS:-5}"
TSHARK_RUNS="${TSHARK_RUNS:-3}"
SIZE="${SIZE:-500M}"
CLIENT_SIZE="${CLIENT_SIZE:-200M}"
DIR="${BENCH_DIR:-$TARGET/capture-bench}"
INSPECTOR="$TARGET/release/inspector"
GEN="$TARGET/release/examples/capture_gen"

say() { printf '%s\n' "$*" >&2; }

# Optional tools: installed with apt when missing (as root), else skipped.
ensure_tool() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ "${NO_INSTALL:-}" != 1 && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update && apt-get install -y "$2"; } >"$DIR/apt-$2.log" 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat_of() { sed -n "s/^$2=//p" "$1.stats"; }

mkdir -p "$DIR"
cleanup() {
  if [[ "${KEEP:-}" == 1 ]]; then
    say "captures kept in $DIR"
  else
    rm -f "$DIR"/*.pcap "$DIR"/*.pcap.key "$DIR"/*.pcap.stats
  fi
}
trap cleanup EXIT

if ! [[ -x /usr/bin/time ]] && ! ensure_tool /usr/bin/time time; then
  say "GNU time (/usr/bin/time) is missing and could not be installed: it measures CPU time and peak RSS"
  exit 1
fi

say "building release binaries in $TARGET"
(cd "$ROOT" && cargo build --release --quiet -p inspector --bin inspector && cargo build --release --quiet --example capture_gen)

gen() { # name size [flags]
  local name="$1" size="$2"
  shift 2
  if [[ ! -s "$DIR/$name.pcap" || ! -s "$DIR/$name.pcap.stats" ]]; then
    "$GEN" generate "$DIR/$name.pcap" --size "$size" "$@" >/dev/null
    say "generated $name.pcap: $(stat_of "$DIR/$name.pcap" file_bytes) bytes in $(stat_of "$DIR/$name.pcap" generate_seconds) s"
  fi
}

gen throughput "$SIZE"
gen client "$CLIENT_SIZE" --shape client
gen 50M 50M
gen large-frames 50M --large-frames
gen never-close 500M --never-close
if [[ ! -s "$DIR/scan.pcap" || ! -s "$DIR/scan.pcap.stats" ]]; then
  "$GEN" scan "$DIR/scan.pcap" --connections 200000 >/dev/null
  say "generated scan.pcap: $(stat_of "$DIR/scan.pcap" file_bytes) bytes in $(stat_of "$DIR/scan.pcap" generate_seconds) s"
fi
if [[ "${SKIP_2G:-}" != 1 ]]; then
  gen 2G 2G
fi

# Wall and CPU seconds of one run of a command, its stdout discarded.
timed() { # outfile command...
  local out="$1"
  shift
  if ! /usr/bin/time -f '%e %U %S %M' -o "$out.time" "$@" >/dev/null 2>"$out.err"; then
    say "failed: $*"
    cat "$out.err" >&2
    exit 1
  fi
  cat "$out.time"
}

FILE="$DIR/throughput.pcap"
KEY="$FILE.key"
BYTES=$(stat_of "$FILE" file_bytes)
ENC=$(stat_of "$FILE" encrypted_bytes)
ENC_MSGS=$(stat_of "$FILE" encrypted_messages)
CHUNK=$((ENC / ENC_MSGS))

# Check once that the run decodes what it should, so speed is never bought
# by skipping work: every request answered, no warning.
"$INSPECTOR" pcap "$FILE" --auth-key "@$KEY" --format json | tail -n 1 >"$DIR/summary.json"
say "inspector summary: $(cat "$DIR/summary.json")"

say "throughput on $(basename "$FILE") ($BYTES bytes, $ENC encrypted in $ENC_MSGS messages), $RUNS runs each"
: >"$DIR/inspector.runs"
: >"$DIR/inspector2.runs"
for _ in $(seq "$RUNS"); do
  timed "$DIR/inspector" "$INSPECTOR" pcap "$FILE" --auth-key "@$KEY" --format json --threads 1 >>"$DIR/inspector.runs"
  timed "$DIR/inspector2" "$INSPECTOR" pcap "$FILE" --auth-key "@$KEY" --format json --threads 2 >>"$DIR/inspector2.runs"
done
# The helper times the decryption itself (wall); GNU time gives its CPU.
: >"$DIR/ige.runs"
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f '%U %S' -o "$DIR/ige.time" "$GEN" ige-limit "$ENC" --chunk "$CHUNK" >"$DIR/ige.wall"
  echo "$(cat "$DIR/ige.wall") $(cat "$DIR/ige.time")" >>"$DIR/ige.runs"
done
: >"$DIR/tshark.runs"
if ensure_tool tshark tshark; then
  for _ in $(seq "$TSHARK_RUNS"); do
    timed "$DIR/tshark" tshark -r "$FILE" -T fields -e tcp.len >>"$DIR/tshark.runs"
  done
else
  say "tshark is not installed and could not be installed: its row is skipped"
fi

mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { if (s == "nan" || s <= 0) print "nan"; else printf "%.0f", b / s / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b <= 0) print "n/a"; else printf "%.2f", a / b }'; }

I_WALL=$(awk '{ print $1 }' "$DIR/inspector.runs" | median)
I_CPU=$(awk '{ print $2 + $3 }' "$DIR/inspector.runs" | median)
I2_WALL=$(awk '{ print $1 }' "$DIR/inspector2.runs" | median)
I2_CPU=$(awk '{ print $2 + $3 }' "$DIR/inspector2.runs" | median)
G_SEC=$(awk '{ print $1 }' "$DIR/ige.runs" | median)
G_CPU=$(awk '{ print $2 + $3 }' "$DIR/ige.runs" | median)
if [[ -s "$DIR/tshark.runs" ]]; then
  T_WALL=$(awk '{ print $1 }' "$DIR/tshark.runs" | median)
  T_CPU=$(awk '{ print $2 + $3 }' "$DIR/tshark.runs" | median)
else
  T_WALL=nan
  T_CPU=nan
fi

echo
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -n 1); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Capture throughput: $(basename "$FILE"), $BYTES bytes, medians of $RUNS runs (tshark: $TSHARK_RUNS)"
echo
echo "| command | wall s | MB/s wall | CPU s | MB/s CPU |"
echo "|---|---:|---:|---:|---:|"
echo "| inspector pcap --format json --threads 1 | $I_WALL | $(mbps "$I_WALL") | $I_CPU | $(mbps "$I_CPU") |"
echo "| inspector pcap --format json --threads 2 | $I2_WALL | $(mbps "$I2_WALL") | $I2_CPU | $(mbps "$I2_CPU") |"
echo "| tshark -T fields -e tcp.len | $T_WALL | $(mbps "$T_WALL") | $T_CPU | $(mbps "$T_CPU") |"
echo "| AES-256-IGE of the $ENC encrypted bytes (${CHUNK}-byte pieces) | $G_SEC | $(mbps "$G_SEC") | $G_CPU | $(mbps "$G_CPU") |"
echo
echo "| ratio | wall | CPU | goal |"
echo "|---|---:|---:|---|"
echo "| inspector / IGE limit, 1 thread | $(ratio "$G_SEC" "$I_WALL") | $(ratio "$G_CPU" "$I_CPU") | ≥ 0.5 |"
echo "| inspector / tshark, 1 thread | $(ratio "$T_WALL" "$I_WALL")× | $(ratio "$T_CPU" "$I_CPU")× | ≥ 50× (floor 20×) |"
echo "| inspector / tshark, 2 threads | $(ratio "$T_WALL" "$I2_WALL")× | $(ratio "$T_CPU" "$I2_CPU")× | |"

# The client-shaped capture: the same commands, against tshark only.
CFILE="$DIR/client.pcap"
CBYTES=$(stat_of "$CFILE" file_bytes)
"$INSPECTOR" pcap "$CFILE" --auth-key "@$CFILE.key" --format json | tail -n 1 >"$DIR/client-summary.json"
say "inspector summary (client shape): $(cat "$DIR/client-summary.json")"
say "throughput on client.pcap ($CBYTES bytes, $(stat_of "$CFILE" packets) packets, $(stat_of "$CFILE" connections) connections), $RUNS runs each"
: >"$DIR/client1.runs"
: >"$DIR/client2.runs"
for _ in $(seq "$RUNS"); do
  timed "$DIR/client1" "$INSPECTOR" pcap "$CFILE" --auth-key "@$CFILE.key" --format json --threads 1 >>"$DIR/client1.runs"
  timed "$DIR/client2" "$INSPECTOR" pcap "$CFILE" --auth-key "@$CFILE.key" --format json --threads 2 >>"$DIR/client2.runs"
done
: >"$DIR/ctshark.runs"
if command -v tshark >/dev/null 2>&1; then
  for _ in $(seq "$TSHARK_RUNS"); do
    timed "$DIR/ctshark" tshark -r "$CFILE" -T fields -e tcp.len >>"$DIR/ctshark.runs"
  done
fi
cmbps() { awk -v b="$CBYTES" -v s="$1" 'BEGIN { if (s == "nan" || s <= 0) print "nan"; else printf "%.0f", b / s / 1e6 }'; }
C1_WALL=$(awk '{ print $1 }' "$DIR/client1.runs" | median)
C1_CPU=$(awk '{ print $2 + $3 }' "$DIR/client1.runs" | median)
C2_WALL=$(awk '{ print $1 }' "$DIR/client2.runs" | median)
C2_CPU=$(awk '{ print $2 + $3 }' "$DIR/client2.runs" | median)
if [[ -s "$DIR/ctshark.runs" ]]; then
  CT_WALL=$(awk '{ print $1 }' "$DIR/ctshark.runs" | median)
  CT_CPU=$(awk '{ print $2 + $3 }' "$DIR/ctshark.runs" | median)
else
  CT_WALL=nan
  CT_CPU=nan
fi

echo
echo "Client-shaped capture: client.pcap, $CBYTES bytes, $(stat_of "$CFILE" packets) packets, $(stat_of "$CFILE" connections) connections, medians of $RUNS runs (tshark: $TSHARK_RUNS)"
echo
echo "| command | wall s | MB/s wall | CPU s | MB/s CPU |"
echo "|---|---:|---:|---:|---:|"
echo "| inspector pcap --format json --threads 1 | $C1_WALL | $(cmbps "$C1_WALL") | $C1_CPU | $(cmbps "$C1_CPU") |"
echo "| inspector pcap --format json --threads 2 | $C2_WALL | $(cmbps "$C2_WALL") | $C2_CPU | $(cmbps "$C2_CPU") |"
echo "| tshark -T fields -e tcp.len | $CT_WALL | $(cmbps "$CT_WALL") | $CT_CPU | $(cmbps "$CT_CPU") |"
echo
echo "| ratio | wall | CPU |"
echo "|---|---:|---:|"
echo "| inspector / tshark, 1 thread | $(ratio "$CT_WALL" "$C1_WALL")× | $(ratio "$CT_CPU" "$C1_CPU")× |"
echo "| inspector / tshark, 2 threads | $(ratio "$CT_WALL" "$C2_WALL")× | $(ratio "$CT_CPU" "$C2_CPU")× |"
echo "| 2 threads / 1 thread (speed-up) | $(ratio "$C1_WALL" "$C2_WALL")× | |"

echo
echo "Peak RSS of inspector pcap --format json (one run each)"
echo
echo "| capture | bytes | connections | peak RSS MiB, 1 thread | 2 threads | goal ≤ 64 MiB |"
echo "|---|---:|---:|---:|---:|---|"
# Peak RSS in KiB of one run with $2 threads.
rss() { # file threads
  /usr/bin/time -v -o "$DIR/rss.txt" "$INSPECTOR" pcap "$1" --auth-key "@$1.key" --format json --threads "$2" >/dev/null 2>/dev/null
  sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/rss.txt"
}
for name in 50M throughput client 2G large-frames never-close scan; do
  f="$DIR/$name.pcap"
  [[ -s "$f" ]] || continue
  kb1=$(rss "$f" 1)
  kb2=$(rss "$f" 2)
  mib1=$(awk -v k="$kb1" 'BEGIN { printf "%.1f", k / 1024 }')
  mib2=$(awk -v k="$kb2" 'BEGIN { printf "%.1f", k / 1024 }')
  ok=$(awk -v a="$kb1" -v b="$kb2" 'BEGIN { print (a <= 64 * 1024 && b <= 64 * 1024) ? "met" : "MISSED" }')
  case "$name" in
    throughput) label="$SIZE" ;;
    client) label="$CLIENT_SIZE, client shape" ;;
    large-frames) label="50M + 4 MiB title + 16 MiB gzip_packed" ;;
    never-close) label="500M + one connection never closed" ;;
    scan) label="a scan: SYNs only, every connection left open" ;;
    *) label="$name" ;;
  esac
  echo "| $label | $(stat_of "$f" file_bytes) | $(stat_of "$f" connections) | $mib1 | $mib2 | $ok |"
done
