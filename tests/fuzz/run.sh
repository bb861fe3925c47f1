#!/usr/bin/env bash
# make fuzz: builds the AFL++ targets (cargo-afl) and runs each for FUZZ_SECONDS, one
# fuzzer process at a time, under `nice`. Each target starts from tests/fuzz/corpus/NAME;
# afterwards its queue is minimized (afl-cmin) back into that corpus, any crash or hang
# input is copied to tests/fuzz/crashes/NAME/, and one line per target goes to
# target/fuzz/report.tsv (target, seconds, executions, execs/s, corpus, crashes, hangs).
#   FUZZ_SECONDS=60 (per target)  FUZZ_TARGETS="query_args request"  FUZZ_NICE=10
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/target/fuzz"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-configuration lua_source lua_pattern string_format json_decode query_args multipart request}
nice_level=${FUZZ_NICE:-10}

command -v cargo-afl >/dev/null || cargo install --locked cargo-afl
# AFL++ itself, built once per rustc version by cargo-afl (under ~/.local/share/afl.rs).
cargo afl config --build >/dev/null 2>&1 || true
# afl-cmin.bash: the Python afl-cmin that cargo-afl calls finds no coverage in these
# persistent-mode targets; the shell version (same AFL++ build) does.
afl_bin=$(dirname "$(find "${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs" -path "*rustc-$(rustc -V | cut -d' ' -f2)-*" -name afl-cmin.bash | head -1)")
CARGO_TARGET_DIR="$out" nice -n "$nice_level" cargo afl build --release --quiet

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_SKIP_CRASHES=1 AFL_CMIN_ALLOW_ANY=1
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
  # The minimized queue becomes the corpus the next run (and the replay test) starts from.
  rm -rf "$run/cmin"
  if PATH="$afl_bin:$PATH" AFL_PATH="$afl_bin" nice -n "$nice_level" "$afl_bin/afl-cmin.bash" -t 2000 -i "$run/default/queue" -o "$run/cmin" -- "$out/release/$t" >"$run.cmin.log" 2>&1 &&
     ls "$run/cmin"/* >/dev/null 2>&1; then
    rm -rf "corpus/$t" && mkdir -p "corpus/$t"
    i=0; for f in "$run/cmin"/*; do cp "$f" "corpus/$t/$(printf '%04d' $i)"; i=$((i + 1)); done
  else
    echo "afl-cmin failed for $t (corpus kept); see $run.cmin.log"
  fi
  line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$t" "$(field run_time)" "$(field execs_done)" "$(field execs_per_sec)" "$(ls "corpus/$t" | wc -l)" "$crashes" "$hangs")
  echo "$line" | tee -a "$report"
done
