#!/bin/sh
# BENCHMARKS.md's measured split: instructions per request by kind of work for scenarios
# (default s1 s2), ours (callgrind-driver, natively on FakeHost) beside B3 (PUC-Rio Lua
# 5.1 with B3's shim, b3_driver.c), each counted by callgrind at LOW and HIGH requests
# (the difference / (HIGH - LOW) is per request). Needs valgrind and clang (native).
# s5 (pre + post function) is ours only: B3's driver runs one filter. `--start` splits one
# start + configure of the seed instead (the driver's `start` mode, LOW and HIGH starts,
# 100 and 200 unless set).
# usage: tests/bench/callgrind/split.sh [--detail] [s0 s1 s2 s5] | split.sh --start
set -eu
cd "$(dirname "$0")/../../.."
LOW=${LOW:-1000}
HIGH=${HIGH:-2000}
DETAIL=
[ "${1:-}" = --detail ] && { DETAIL=--detail; shift; }
if [ "${1:-}" = --start ]; then
  LOW=${LOW_STARTS:-100}; HIGH=${HIGH_STARTS:-200}; OUT=target/callgrind
  mkdir -p $OUT
  cargo build --quiet --release --example callgrind-driver --features fuzzing
  for n in $LOW $HIGH; do
    valgrind --tool=callgrind --callgrind-out-file=$OUT/ours-start-$n.out target/release/examples/callgrind-driver start $n 2>/dev/null
  done
  exec python3 tests/bench/callgrind/split.py $OUT $LOW $HIGH --start
fi
SCENARIOS=${*:-s1 s2}
OUT=target/callgrind
mkdir -p $OUT
cargo build --quiet --release --example callgrind-driver --features fuzzing
LUA=${LUA51_SRC:-$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/lua-src-551.1.0/lua-5.1.5 | head -n 1)}
[ -f "$LUA/lvm.c" ] || { echo "lua-src 551.1.0 not in cargo's registry: make bench-filters fetches it"; exit 1; }
FILES=
for n in lapi lcode ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate lstring ltable ltm \
         lundump lvm lzio lauxlib lbaselib lstrlib ltablib lmathlib; do FILES="$FILES $LUA/$n.c"; done
PUC=tests/bench/filters/puc-lua
clang -O2 -w -I $PUC/csrc -I "$LUA" $FILES $PUC/csrc/b3.c tests/bench/callgrind/b3_driver.c -lm -o $OUT/b3-driver
for s in $SCENARIOS; do
  for n in $LOW $HIGH; do
    valgrind --tool=callgrind --callgrind-out-file=$OUT/ours-$s-$n.out target/release/examples/callgrind-driver $s $n 2>/dev/null
    [ "$s" = s5 ] || valgrind --tool=callgrind --callgrind-out-file=$OUT/b3-$s-$n.out $OUT/b3-driver $PUC/src/shim.lua tests/bench/scenarios $s $n 2>/dev/null
  done
done
python3 tests/bench/callgrind/split.py $OUT $LOW $HIGH $DETAIL $SCENARIOS
