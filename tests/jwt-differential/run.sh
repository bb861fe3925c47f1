#!/bin/sh
# Runs the Lua programs of src/lua/modules/jwt_tests.rs under luajit with the real
# modules and compares their output with the tests' expectations (issue 25).
# Needs: luajit, lua-cjson, libcrypto.so (OpenSSL 3), python3, and the originals'
# lib/ trees (not in this repository) merged under $REAL/lib:
#   cdbattags/lua-resty-jwt 3973e40, fffonion/lua-resty-openssl 1.9.0 (4ebee84),
#   jkeys089/lua-resty-hmac, openresty/lua-resty-string.
# Usage: REAL=/path/to/dir-with-lib tests/jwt-differential/run.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
python3 "$here/extract.py" "$here/../../src/lua/modules/jwt_tests.rs" "$out"
status=0
for f in "$out"/*.lua; do
  n=$(basename "$f" .lua)
  (cd "$REAL" && LUA_PATH="lib/?.lua;lib/?/init.lua;;" luajit -e "dofile('$here/shim.lua')" "$f") > "$out/$n.luajit" 2>&1 || true
  if diff -q "$out/$n.luajit" "$out/$n.expected" > /dev/null; then echo "same: $n"; else echo "DIFFERENT: $n"; diff "$out/$n.luajit" "$out/$n.expected" || true; status=1; fi
done
exit $status
