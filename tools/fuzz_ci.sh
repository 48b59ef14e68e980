#!/usr/bin/env bash
# Build every fuzz target and run each for a bounded time (CI and local).
#
#   tools/fuzz_ci.sh [SECONDS]     # seconds per target, default 30
#
# Needs only a stable Rust toolchain: the targets are built with plain cargo and
# the instrumentation flags cargo-fuzz would pass (RUSTC_BOOTSTRAP=1 for the
# -Z flag of AddressSanitizer, whose runtime ships with stable's rust-std), so no
# cargo-fuzz and no nightly. Seeds: the real files of ../shared/corpus, frames
# encoded by the codec's own encoders (rust/dicomfast-codec/tests/fuzz_seeds.rs),
# the captured PDUs of rust/dicomfast-pdu/tests/fixtures.
#
# Everything is written under target/: target/fuzz (build), target/debug (the
# seed test, shared with `cargo test`), target/fuzz-ci
# (seeds, corpora the fuzzers grow, logs, crash artifacts). A crash, timeout or
# out-of-memory input fails the script after all targets ran; each reproducer
# is printed with its path and base64 (`base64 -d > crash` recovers it) and
# replays with `target/fuzz/x86_64-unknown-linux-gnu/release/<target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${1:-30}
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || { echo "usage: $0 [seconds per target]" >&2; exit 2; }
jobs=${FUZZ_JOBS:-$(nproc)}
((jobs > 2)) && jobs=2  # one fuzzer per core, at most two at a time
triple=$(rustc -vV | sed -n 's/^host: //p')
work=$root/target/fuzz-ci
fuzz_target_dir=$root/target/fuzz
bin=$fuzz_target_dir/$triple/release

# Instrumentation as cargo-fuzz does it: coverage counters and comparison
# tracing for libFuzzer, AddressSanitizer (the codec has unsafe SIMD code,
# encoding_rs unsafe text code), overflow checks and debug assertions on.
# --target keeps these flags off build scripts. The C and C++ libraries behind
# the codecs (c_decode) get AddressSanitizer too (gcc: no libFuzzer coverage of
# their insides, but any bad read or write they make is caught).
asan_c="-fsanitize=address -fno-omit-frame-pointer"
fuzz_cargo() {
  env "CFLAGS_${triple//-/_}=$asan_c" "CXXFLAGS_${triple//-/_}=$asan_c" \
    RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$fuzz_target_dir RUSTFLAGS="--cfg fuzzing \
-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Zsanitizer=address -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers" \
    cargo "$@"
}
# Leaks are not what this looks for; a leak report would end a run early.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# crate -> its targets
declare -A targets=(
  [core]="parse values charset"
  [codec]="rle_decode jpeg_decode round_trip native_decode c_decode file_decode ht_round_trip ht_decode jpeg_bands"
  [pdu]="pdu_roundtrip reassemble"
  [media]="fileset"
  [export]="export_png native_copy"
)

t0=$SECONDS
rm -rf "$work"
mkdir -p "$work"/{seeds,corpus,artifacts,logs}

echo "--- seeds"
seeds=$work/seeds
corpus=$root/../shared/corpus
mkdir -p "$seeds/dicom" "$seeds/charset" "$seeds/pdu" "$seeds/stream"
if [[ -d $corpus ]]; then
  # Every real file whole up to 64 KiB; of bigger ones the first 16 KiB (file
  # meta, data set, the start of Pixel Data), which is what a parser reads.
  n=0
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    head -c 16384 "$f" >"$seeds/dicom/$n"
  done < <(find "$corpus" -type f -size +64k ! -name '*.json' ! -name '*.md' -print0 | sort -z)
  while IFS= read -r -d '' f; do
    n=$((n + 1))
    cp "$f" "$seeds/dicom/$n"
  done < <(find "$corpus" -type f -size -65537c ! -name '*.json' ! -name '*.md' -print0 | sort -z)
  echo "dicom: $n files from $corpus"
elif [[ -n ${CI:-} ]]; then
  echo "no corpus at $corpus: CI must have it" >&2
  exit 1
else
  echo "no corpus at $corpus: the parser targets start from nothing" >&2
fi
# Specific Character Set values (first line) with text in them.
i=0
for s in $'ISO_IR 100\nM\xfcller^J\xfcrgen' $'ISO_IR 192\nYamada^Tarou=\xe5\xb1\xb1\xe7\x94\xb0^\xe5\xa4\xaa\xe9\x83\x8e' \
  $'\\ISO 2022 IR 87\nYamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B' \
  $'\\ISO 2022 IR 149\nHong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7' \
  $'\\ISO 2022 IR 149\nKim=\x1b$)C\xa4\xd4\xa4\xb7\xa4\xd2\xa4\xaf\xa4\xd4\xa4\xa1' \
  $'ISO 2022 IR 13\\ISO 2022 IR 87\n\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J' \
  $'GB18030\nWang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab' $'GBK\n\xcd\xf5\\\xd0\xa1' \
  $'ISO 2022 IR 6\\ISO 2022 IR 58\n\x1b$)A\xd6\xd0\xce\xc4\r\nline 2' \
  $'ISO_IR 144\n\xbb\xee\xdace\xd2' $'ISO_IR 166\n\xca\xc7\xd1\xca' $'ISO 2022 IR 159\n\x1b$(D\x30\x21\x1b(B'; do
  i=$((i + 1))
  printf '%s' "$s" >"$seeds/charset/$i"
done
# PDUs captured from DCMTK, the command sets inside the P-DATA ones (after the
# 6-byte PDU and 6-byte PDV headers), and for the reassemble target the whole
# exchange as one stream, as is (its PDU stream part) and behind 3 bytes of
# maximum length and context id (its fragmentation part).
fixtures=rust/dicomfast-pdu/tests/fixtures
for f in "$fixtures"/*.bin "$fixtures"/regressions/*; do
  [[ -f $f && $f != *.md ]] || continue
  cp "$f" "$seeds/pdu/"
done
for f in "$fixtures"/*pdata*.bin; do
  tail -c +13 "$f" >"$seeds/pdu/cmd_$(basename "$f")"
done
cat "$fixtures"/*.bin >"$seeds/stream/echo"
cat "$fixtures"/*pdata*.bin >"$seeds/stream/pdata"
{ printf '\x40\x00\x01'; cat "$fixtures"/*.bin; } >"$seeds/stream/echo_fragmented"
{ printf '\x00\x10\x01'; cat "$fixtures"/*pdata*.bin; } >"$seeds/stream/pdata_fragmented"
cp "$seeds"/pdu/* "$seeds/stream/"
# Frames encoded by the codec (a test that checks they decode, then writes
# them): an ordinary test build, in target/debug like the tests step's.
DICOMFAST_FUZZ_SEEDS=$seeds cargo test --quiet -p dicomfast-codec --all-features --test fuzz_seeds \
  >"$work/logs/seeds.log" 2>&1 || { cat "$work/logs/seeds.log"; exit 1; }
# Native frames: a layout (5 bytes: rows, columns, Bits Allocated and samples,
# Bits Stored and sign and planar, byte order and float and start bit) before
# bytes of those frames.
mkdir -p "$seeds/native_decode"
i=0
for h in '\x07\x09\x01\x00\x00' '\x04\x06\x09\x00\x00' '\x0f\x03\x02\x44\x01' '\x02\x28\x0a\x80\x00' \
  '\x05\x05\x03\x00\x02' '\x03\x02\x04\x40\x03' '\x09\x11\x00\x00\x0c' '\x04\x07\x01\x00\x01'; do
  i=$((i + 1))
  { printf %b "$h"; tail -c +5 "$seeds/rle_decode/rle_$((i % 9))"; } >"$seeds/native_decode/n$i"
done
# Frames of the C-backed syntaxes behind c_decode's layout header: our encoders'
# and the corpus's (needs the installed dicomfast; without it, no seeds).
python3 tools/fuzz_codec_seeds.py "$seeds/c_decode" "$corpus" >"$work/logs/c_seeds.log" 2>&1 \
  || { echo "no c_decode seeds (dicomfast not importable?):"; tail -3 "$work/logs/c_seeds.log"; mkdir -p "$seeds/c_decode"; }
# Whole files whose frames take the paths of more than one thread (a lone 256 x 256 frame
# in JPEG bands, JPEG 2000, HTJ2K; several frames), for file_decode's one-against-two-
# threads check: the corpus's small files do not.
python3 tools/fuzz_codec_seeds.py --files "$seeds/dicom" >>"$work/logs/c_seeds.log" 2>&1 \
  || { echo "no file_decode files (dicomfast not importable?):"; tail -3 "$work/logs/c_seeds.log"; }
# JPEG 2000 and HTJ2K codestreams for ht_decode (our decoder takes both): c_decode's seeds
# of syntaxes 6-10 (4.90, 4.91, 4.201-4.203), their 6-byte layout replaced by ht_decode's
# one byte.
mkdir -p "$seeds/ht_decode"
for f in "$seeds"/c_decode/*; do
  [[ -f $f ]] || continue
  s=$(od -An -tu1 -N1 "$f" | tr -d ' ')
  case $((s % 13)) in
    6 | 7 | 8 | 9 | 10) { printf '\x03'; tail -c +7 "$f"; } >"$seeds/ht_decode/$(basename "$f")" ;;
  esac
done
# Small tiled codestreams and JP2 files (our decoder takes both) from OpenJPEG's
# opj_compress, when installed: tiles of a power of two, RPCL with precincts, CPRL.
if command -v opj_compress >/dev/null; then
  i=0
  for spec in "40 30 16,16 -n 3" "33 20 8,8 -n 2" "64 48 32,16 -n 3 -p RPCL -c [16,16],[16,16],[16,16]" \
    "24 24 16,16 -n 3 -p CPRL"; do
    read -r w h tiles opts <<<"$spec"
    i=$((i + 1))
    { printf 'P5\n%s %s\n255\n' "$w" "$h"; head -c $((w * h)) /dev/urandom; } >"$work/tiled$i.pgm"
    for ext in j2k jp2; do
      # shellcheck disable=SC2086 # the options are words
      opj_compress -i "$work/tiled$i.pgm" -o "$work/tiled$i.$ext" -t "$tiles" $opts >/dev/null 2>&1 &&
        { printf '\x03'; cat "$work/tiled$i.$ext"; } >"$seeds/ht_decode/tiled$i.$ext"
    done
  done
fi
echo "seeds ready at $((SECONDS - t0)) s"

echo "--- build (stable rustc + RUSTC_BOOTSTRAP=1, ASan, --locked)"
for crate in core codec pdu media export; do
  manifest=rust/dicomfast-$crate/fuzz/Cargo.toml
  fuzz_cargo build --quiet --locked --release --target "$triple" --bins --manifest-path "$manifest" || {
    echo "building $manifest failed; if its Cargo.lock is stale (a crate gained a dependency):" >&2
    echo "  cargo fetch --manifest-path $manifest   # adds what is missing, changes nothing else" >&2
    echo "and commit the lock file." >&2
    exit 1
  }
done
echo "built at $((SECONDS - t0)) s"

seeds_of() {
  case $1 in
    parse | values | file_decode | fileset | export_png | native_copy) echo "$seeds/dicom" ;;
    charset) echo "$seeds/charset" ;;
    rle_decode | jpeg_decode | round_trip | native_decode | c_decode | ht_decode | jpeg_bands) echo "$seeds/$1" ;;
    ht_round_trip) echo "$seeds/round_trip" ;; # frames' bytes, as round_trip takes them
    pdu_roundtrip) echo "$seeds/pdu" ;;
    reassemble) echo "$seeds/stream" ;;
  esac
}

# Seconds one input may take: c_decode allows more, as CharLS 2.4.5 spends ~2 s
# (9 s under AddressSanitizer) on some 60-byte near-lossless streams whatever the
# frame size (a bounded stall in the library, not a hang: kept visible as a slow unit).
timeout_of() {
  case $1 in
    c_decode | file_decode) echo 30 ;;
    *) echo 10 ;;
  esac
}

run() {
  local t=$1
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  # The first directory receives the inputs that add coverage; the seeds stay read-only.
  "$bin/$t" "$work/corpus/$t" "$(seeds_of "$t")" \
    -max_total_time="$secs" -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" \
    >"$work/logs/$t.log" 2>&1
}

echo "--- fuzz: $secs s per target, $jobs at a time"
all=()
for crate in core codec pdu media export; do
  read -ra ts <<<"${targets[$crate]}"
  all+=("${ts[@]}")
done
running=()
for t in "${all[@]}"; do
  while ((${#running[@]} >= jobs)); do
    wait -n || true
    still=()
    for p in "${running[@]}"; do kill -0 "${p%%:*}" 2>/dev/null && still+=("$p"); done
    running=("${still[@]+"${still[@]}"}")
  done
  run "$t" &
  running+=("$!:$t")
done
wait || true

failed=0
for t in "${all[@]}"; do
  log=$work/logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
  # crash-, timeout-, oom-, leak- files fail the run; a slow-unit- file is only shown.
  mapfile -t found < <(find "$work/artifacts/$t" -type f ! -name 'slow-unit-*' | sort)
  mapfile -t slow < <(find "$work/artifacts/$t" -type f -name 'slow-unit-*' | sort)
  ((${#slow[@]} == 0)) || echo "$t: slow inputs (not a failure): ${slow[*]}"
  if ((${#found[@]} == 0)) && grep -q '^Done [0-9]* runs' "$log"; then
    printf '%-14s ok    %10s runs %8s/s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$cov"
    continue
  fi
  failed=1
  printf '%-14s FAILED\n' "$t"
  echo "----- $log: what went wrong, then its last 40 lines"
  grep -E -m 4 -A 2 'panicked at|==ERROR|ERROR: libFuzzer' "$log" || true
  echo "-----"
  tail -n 40 "$log"
  for f in "${found[@]}"; do
    echo "----- reproducer: $f ($(stat -c %s "$f") bytes); replay: $bin/$t $f"
    echo "----- base64 (decode with: base64 -d > $(basename "$f"))"
    base64 -w 76 "$f"
  done
done
echo "fuzzing done in $((SECONDS - t0)) s in all"
if ((failed)); then
  echo "A fuzz target failed. Make each reproducer a regression test in its crate's tests, then fix." >&2
  exit 1
fi
