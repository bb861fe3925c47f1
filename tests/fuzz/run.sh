#!/usr/bin/env bash
# make fuzz: builds the AFL++ targets (cargo-afl) and runs each for FUZZ_SECONDS, one
# fuzzer process at a time, under `nice`. Each target starts from tests/fuzz/corpus/NAME;
# afterwards its seeds and new-coverage queue entries become that corpus, any crash or hang
# input is copied to tests/fuzz/crashes/NAME/, and one line per target goes to
# target/fuzz/report.tsv (target, seconds, executions, execs/s, corpus, crashes, hangs).
#   FUZZ_SECONDS=60 (per target)  FUZZ_TARGETS="query_args request"  FUZZ_NICE=10
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/target/fuzz"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-configuration lua_source lua_pattern string_format json_decode query_args multipart request websocket_frames}
nice_level=${FUZZ_NICE:-10}

command -v cargo-afl >/dev/null || cargo install --locked cargo-afl
# AFL++ itself, built once per rustc version by cargo-afl (under ~/.local/share/afl.rs).
cargo afl config --build >/dev/null 2>&1 || true
CARGO_TARGET_DIR="$out" nice -n "$nice_level" cargo afl build --release --quiet

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_SKIP_CRASHES=1
mkdir -p "$out/runs"
report="$out/report.tsv"
[ -f "$report" ] || printf 'target\tseconds\texecutions\texecs_per_sec\tcorpus\tcrashes\thangs\n' >"$report"
for t in $targets; do
  run="$out/runs/$t"
  rm -rf "$run"
  echo "== $t: ${seconds}s"
  # -G 4096: inputs stay small (a header, a chunk, a body); -t 2000: a hang is 2 s.
  nice -n "$nice_level" cargo afl fuzz -V "$seconds" -t 2000 -G 4096 -i "corpus/$t" -o "$run" "$out/release/$t" >"$run.log" 2>&1 || {
    echo "afl-fuzz failed for $t; see $run.log"; tail -20 "$run.log"; exit 1; }
  stats="$run/default/fuzzer_stats"
  field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(field saved_crashes); hangs=$(field saved_hangs)
  for kind in crash hang; do
    for f in "$run/default/${kind}s"/id:*; do
      [ -f "$f" ] || continue
      # Named by content: git-friendly, and the same input found twice is kept once.
      mkdir -p "crashes/$t" && cp "$f" "crashes/$t/${kind}-$(sha1sum "$f" | cut -c1-12)"
    done
  done
  # The corpus the next run (and the replay test) starts from: the seeds and every queue
  # entry that reached new coverage (AFL++ marks them `+cov`). afl-cmin would make it
  # smaller, but its shell version takes tens of minutes on a thousand entries here and
  # its Python version finds no coverage in these persistent-mode targets.
  keep=$(ls "$run/default/queue" | grep -E '\+cov|orig:' || true)
  if [ -n "$keep" ]; then
    rm -rf "corpus/$t" && mkdir -p "corpus/$t"
    for f in $keep; do cp "$run/default/queue/$f" "corpus/$t/$(sha1sum "$run/default/queue/$f" | cut -c1-12)"; done
  fi
  line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$t" "$(field run_time)" "$(field execs_done)" "$(field execs_per_sec)" "$(ls "corpus/$t" | wc -l)" "$crashes" "$hangs")
  echo "$line" | tee -a "$report"
done
