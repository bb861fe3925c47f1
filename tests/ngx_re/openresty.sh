#!/usr/bin/env bash
# Runs tests/ngx_re/cases.lua in OpenResty's engine (Debian's nginx with lua-nginx-module,
# OpenResty's LuaJIT and lua-resty-core, unpacked by `make openresty` under
# target/openresty/root) and writes what it printed to tests/ngx_re/openresty.txt, the
# expected results tests/ngx_re.rs checks our module against. nginx listens on 127.0.0.1
# only, serves one request, and is stopped; the whole run is bounded by `timeout`.
#   make openresty && bash tests/ngx_re/openresty.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD/target/openresty/root
test -f "$root/usr/lib/nginx/modules/ngx_http_lua_module.so" || { echo "run make openresty first"; exit 1; }
prefix=$(mktemp -d /tmp/ngx-re.XXXXXX)
trap 'kill "$(cat "$prefix/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$prefix"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$prefix/nginx.conf" <<CONF
daemon on;
master_process off;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module $root/usr/lib/nginx/modules/ngx_http_lua_module.so;
events { worker_connections 16; }
http {
    access_log off;
    client_body_temp_path $prefix/body;
    lua_package_path "$root/usr/share/lua/5.1/?.lua;;";
    server {
        listen 127.0.0.1:$port;
        location / {
            default_type text/plain;
            content_by_lua_block {
                local f = assert(loadfile("$PWD/tests/ngx_re/cases.lua"))
                f(function(line) ngx.say(line) end)
            }
        }
    }
}
CONF
LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu timeout 20 nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log"
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
out=tests/ngx_re/openresty.txt
{
  echo "# tests/ngx_re/cases.lua in $(nginx -v 2>&1 | sed 's/^nginx version: //') with lua-nginx-module $(ls target/openresty/debs | sed -n 's/^libnginx-mod-http-lua_1%3a\(.*\)_amd64.deb$/\1/p'), lua-resty-core $(ls target/openresty/debs | sed -n 's/^lua-resty-core_\(.*\)_all.deb$/\1/p'), PCRE $(dpkg-query -W -f '${Version}' libpcre3) (Debian 12 packages; tests/ngx_re/openresty.sh)"
  timeout 20 curl -s --max-time 15 "http://127.0.0.1:$port/"
} > "$out"
grep -q "" "$prefix/error.log" && { echo "--- nginx error.log:"; cat "$prefix/error.log"; } || true
echo "wrote $out ($(wc -l < "$out") lines)"
