/* The standard libraries the benchmark chunks use (base, table, string, math), opened as
 * linit.c does; io, os, package and debug are left out (no files or processes in the
 * filter). */
#include "lua.h"
#include "lualib.h"
#include "lauxlib.h"

void b3_openlibs(lua_State *L) {
  static const luaL_Reg libs[] = {
    {"", luaopen_base},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math},
    {NULL, NULL}
  };
  const luaL_Reg *lib;
  for (lib = libs; lib->func; lib++) {
    lua_pushcfunction(L, lib->func);
    lua_pushstring(L, lib->name);
    lua_call(L, 1, 0);
  }
}
