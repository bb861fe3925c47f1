/* The native driver of B3's instruction counts in BENCHMARKS.md ("The measured split",
 * tests/bench/callgrind/split.sh): PUC-Rio Lua 5.1 compiled as the B3 filter compiles it
 * (same sources, same csrc/setjmp.h, -O2), the same shim (tests/bench/filters/puc-lua/
 * src/shim.lua) over an in-memory fake of the five host calls, scenario S0, S1 or S2 for
 * N requests. As the Rust driver: natively, no wasm, no proxy.
 *
 * usage: b3-driver SHIM.lua SCENARIO_DIR s0|s1|s2 REQUESTS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lua.h"
#include "lauxlib.h"

void b3_openlibs(lua_State *L);

typedef struct { char name[64]; char value[256]; size_t len; } Header;
typedef struct { Header h[32]; int n; } Map;
static Map request, response;
static int exit_status;

static Header *find(Map *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (strcasecmp(m->h[i].name, name) == 0) return &m->h[i];
  return NULL;
}

static void set(Map *m, const char *name, const char *value, size_t len) {
  Header *h = find(m, name);
  if (!value) {
    if (h) *h = m->h[--m->n];
    return;
  }
  if (!h) { if (m->n == 32) return; h = &m->h[m->n++]; }
  size_t n = strlen(name);
  if (n >= sizeof h->name) n = sizeof h->name - 1;
  memcpy(h->name, name, n);
  h->name[n] = 0;
  if (len >= sizeof h->value) len = sizeof h->value - 1;
  memcpy(h->value, value, len);
  h->value[len] = 0;
  h->len = len;
}

static int get_request_header(lua_State *L) {
  Header *h = find(&request, lua_tostring(L, 1));
  if (h) lua_pushlstring(L, h->value, h->len); else lua_pushnil(L);
  return 1;
}

static int set_request_header(lua_State *L) {
  size_t len = 0;
  const char *v = lua_isnil(L, 2) ? NULL : lua_tolstring(L, 2, &len);
  set(&request, lua_tostring(L, 1), v, len);
  return 0;
}

static int set_response_header(lua_State *L) {
  size_t len = 0;
  const char *v = lua_tolstring(L, 2, &len);
  set(&response, lua_tostring(L, 1), v, len);
  return 0;
}

static int respond(lua_State *L) {
  exit_status = (int)lua_tointeger(L, 1);
  return 0;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END); *len = (size_t)ftell(f); fseek(f, 0, SEEK_SET);
  char *buf = malloc(*len + 1);
  if (fread(buf, 1, *len, f) != *len) { perror(path); exit(2); }
  buf[*len] = 0; fclose(f);
  return buf;
}

static void add(lua_State *L, const char *dir, const char *phase, const char *file, const char *inline_source) {
  char path[1024];
  size_t len;
  char *source;
  if (inline_source) { source = strdup(inline_source); len = strlen(source); }
  else { snprintf(path, sizeof path, "%s/%s", dir, file); source = slurp(path, &len); }
  lua_pushvalue(L, 1); /* add */
  lua_pushstring(L, phase);
  if (luaL_loadbuffer(L, source, len, phase) != 0) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); exit(1); }
  lua_call(L, 2, 0);
  free(source);
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: b3-driver SHIM.lua SCENARIO_DIR s0|s1|s2 REQUESTS\n"); return 2; }
  const char *dir = argv[2], *scenario = argv[3];
  long count = atol(argv[4]);
  lua_State *L = luaL_newstate();
  b3_openlibs(L);
  size_t len;
  char *shim = slurp(argv[1], &len);
  if (luaL_loadbuffer(L, shim, len, "=shim") != 0) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, get_request_header); lua_setfield(L, -2, "get_request_header");
  lua_pushcfunction(L, set_request_header); lua_setfield(L, -2, "set_request_header");
  lua_pushcfunction(L, set_response_header); lua_setfield(L, -2, "set_response_header");
  lua_pushcfunction(L, respond); lua_setfield(L, -2, "respond");
  lua_call(L, 1, 2); /* stack: add, run */
  const char *phases[2] = {0, 0};
  int s1 = 0, s2 = 0;
  if (strcmp(scenario, "s0") == 0) { add(L, dir, "log", NULL, "local _ = 1"); phases[0] = "log"; }
  else if (strcmp(scenario, "s1") == 0) { add(L, dir, "access", "s1_access.lua", NULL); phases[0] = "access"; s1 = 1; }
  else if (strcmp(scenario, "s2") == 0) {
    add(L, dir, "access", "s2_access.lua", NULL); add(L, dir, "header_filter", "s2_header_filter.lua", NULL);
    phases[0] = "access"; phases[1] = "header_filter"; s2 = 1;
  } else { fprintf(stderr, "no scenario %s\n", scenario); return 2; }
  for (long i = 0; i < count; i++) {
    request.n = 0; response.n = 0; exit_status = 0;
    set(&request, ":method", "GET", 3); set(&request, ":path", "/test", 5);
    if (s1 && i % 2 == 1) set(&request, "x-custom-auth", "demo", 4);
    if (s2) {
      set(&request, "x-user", "  Alice ", 8); set(&request, "x-tenant", "ACME", 4);
      set(&request, "x-region", "EU-West", 7); set(&request, "x-trace", "ABC123 ", 7);
      set(&request, "accept", "application/json", 16);
    }
    for (int p = 0; p < 2 && phases[p] && !exit_status; p++) {
      lua_pushvalue(L, 2);
      lua_pushstring(L, phases[p]);
      if (lua_pcall(L, 1, 0, 0) != 0) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
    }
  }
  if (s2 && (!find(&request, "x-tenant-id") || strcmp(find(&request, "x-tenant-id")->value, "acme/eu-west") != 0)) {
    fprintf(stderr, "S2 did not set x-tenant-id\n"); return 1;
  }
  lua_close(L);
  return 0;
}
