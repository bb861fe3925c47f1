#!/usr/bin/env python3
"""The measured split of BENCHMARKS.md: instructions per request by kind of work, ours
(the Rust driver) beside B3 (PUC-Rio Lua 5.1, the C driver), from callgrind runs at two
request counts (split.sh makes them). Each function's self instructions at the larger
count minus those at the smaller, divided by the extra requests, is its steady-state cost
per request; functions are put in a kind by name (RULES, first match wins). Prints the
Markdown table and, with --detail, each kind's heaviest functions.

usage: split.py DIR LOW HIGH [--detail] SCENARIO...   (files DIR/{ours,b3}-SCENARIO-N.out)

With --start (DIR/ours-start-N.out, the driver's `start` mode: LOW and HIGH are starts,
not requests) it splits one start + configure of the seed instead: by stage (inclusive
instructions of the functions that do each part) and by kind of work (self instructions,
START_RULES).
"""
import os
import re
import subprocess
import sys

# (kind, pattern on the function name). Rust names are as valgrind demangles them;
# C names are Lua 5.1's (ltable.c, lstring.c, lvm.c, ldo.c, lgc.c, lstrlib.c, lapi.c).
RULES = [
    ("host calls (fake host, request setup)", r"FakeHost|pdk::testing|callgrind_driver|^main$|^get_request_header$|^set_request_header$|^set_response_header$|^respond$|strcasecmp|eq_ignore_ascii_case|drop_in_place<kong_functions::runtime::request|stream::view"),
    ("GC and allocation", r"gc_arena|luaC_|propagatemark|reallymarkobject|sweeplist|traverse|markroot|^atomic$|luaM_|l_alloc|malloc|free|realloc|_int_|__rust_alloc|__rust_dealloc|__rdl_|alloc::alloc|raw_vec|RawVec|Clone>::clone|drop_in_place<\(alloc|drop_in_place<alloc|BTreeMap|extend_trusted|from_iter|deallocate|luaF_close|luaE_"),
    ("string creation (interning, hashing, copies)", r"luaS_|intern|Interned|str_hash|String::from_slice|String::as_bytes|luaL_addlstring|luaL_pushresult|luaL_buffinit|luaL_addvalue|emptybuffer|adjuststack|memcpy|memmove|memcmp|memset|lua_pushlstring|lua_pushstring|luaV_concat|Utf8Chunks|strlen"),
    ("table lookups (incl. string keys compared by bytes)", r"luaH_|luaV_gettable|luaV_settable|newkey|mainposition|^resize$|rehash|hashbrown|piccolo::table|String as core::cmp::PartialEq|meta_ops::index|meta_ops::new_index|luaT_gettm"),
    ("library work (patterns, lower)", r"^str_|^match|max_expand|min_expand|singlematch|classend|lmemfind|add_value|add_s|pattern::|stdlib::string|tolower|toupper|ctype|memchr"),
    ("callbacks (calls into Rust/C: frames, arguments, results, PDK/shim bodies)", r"call_inline|meta_ops::call|luaD_precall|luaD_poscall|luaD_call|callrethooks|lua_call|lua_pcall|luaL_check|luaL_opt|luaL_arg|lua_to|lua_type|lua_is|lua_gettop|lua_settop|index2adr|lua_push|luaB_|callback|Callback|Executor|executor|Execution|args::|piccolo::stack|Stack|Variadic|MultiValue|FnOnce::call_once|kong_functions::pdk|kong_functions::lua::limits|kong_functions::runtime::Runtime::call"),
    ("VM dispatch (interpreter loop, Lua frames, operators)", r"luaV_|luaO_|luaF_|luaK_|luaD_|vm::|run_vm|thread::|Thread|opcode|piccolo::"),
]


# Start + configure by stage: (stage, function whose inclusive cost it is). The stages nest
# inside `Runtime::build` (`Lua::enter` runs the stdlib, PDK, environment and compile
# stages); what they leave of their parents is printed as its own row.
START_STAGES = [
    ("Lua standard library (`stdlib::load`)", "kong_functions::lua::stdlib::load"),
    ("PDK `kong` tables (`install_kong`)", "kong_functions::pdk::install_kong"),
    ("sandbox: lua.lua names copied, modules behind read-only proxies (`environment::lua_names`, once per state)", "kong_functions::sandbox::environment::lua_names"),
    ("chunk compilation (parse, rewrites, compile: `compile::load`)", "kong_functions::lua::compile::load"),
]
START_RULES = [
    ("allocation (malloc/free, Rust Vec/hashbrown growth)", r"malloc|free|realloc|_int_|__rust_alloc|__rust_realloc|__rdl_|raw_vec|RawVec|do_alloc|alloc_perturb|unlink_chunk"),
    ("table inserts and rehashing", r"piccolo::table|hashbrown|RandomState|drop_in_place<hashbrown"),
    ("string interning and hashing", r"intern|Interned|str_hash|piccolo::string|memcmp|memcpy|memmove|memset"),
    ("compiler (lexer, parser, code generation)", r"piccolo::compiler|kong_functions::lua::compile"),
    ("GC (collector, arena)", r"gc_arena"),
    ("PDK, stdlib and sandbox table building (our code)", r"kong_functions::"),
]


def self_costs(path, inclusive=False):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}", path], capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*?)\s*(\[[^\]]*\])?\s*$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        name = name.split(":", 1)[1] if ":" in name and not name.startswith("<") and not name.startswith("::") and "::" not in name.split(":", 1)[0] else name
        if name.startswith("???:"):
            name = name[4:]
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def kind(name):
    for k, pattern in RULES:
        if re.search(pattern, name):
            return k
    return "other"


def per_request(directory, side, scenario, low, high):
    a = self_costs(f"{directory}/{side}-{scenario}-{low}.out")
    b = self_costs(f"{directory}/{side}-{scenario}-{high}.out")
    per = {}
    for name in set(a) | set(b):
        d = (b.get(name, 0) - a.get(name, 0)) / (high - low)
        if abs(d) >= 0.5:
            per[name] = d
    return per


def start_split(directory, low, high):
    runs = high - low

    def per_start(inclusive):
        a = self_costs(f"{directory}/ours-start-{low}.out", inclusive)
        b = self_costs(f"{directory}/ours-start-{high}.out", inclusive)
        return {n: (b.get(n, 0) - a.get(n, 0)) / runs for n in set(a) | set(b)}

    own, inclusive = per_start(False), per_start(True)
    total = sum(v for v in own.values() if abs(v) >= 0.5)
    build = inclusive.get("kong_functions::runtime::Runtime::build", 0)
    enter = inclusive.get("piccolo::lua::Lua::enter", 0)
    print("| Stage of one start + configure (seed) | instructions | share |\n|---|---|---|")
    rows = [(name, inclusive.get(f, 0)) for name, f in START_STAGES]
    rows.append(("rest of the PDK install (`ngx`, `kong.log` tables ...), executor", enter - sum(v for _, v in rows)))
    rows.append(("Lua state and arena, first collection, host view, shared dicts (`Runtime::build` outside `Lua::enter`)", build - enter))
    rows.append(("`PluginConfig::parse` of the JSON, the driver", total - build))
    for name, v in rows:
        print(f"| {name} | {v:,.0f} | {100 * v / total:.0f}% |")
    print(f"| **total per start** | **{total:,.0f}** | |\n")
    kinds = {k: 0.0 for k, _ in START_RULES}
    kinds["other"] = 0.0
    for name, v in own.items():
        k = next((k for k, pattern in START_RULES if re.search(pattern, name)), "other")
        kinds[k] += v
    print("| Kind of work (self instructions) | instructions | share |\n|---|---|---|")
    for k, v in kinds.items():
        print(f"| {k} | {v:,.0f} | {100 * v / total:.0f}% |")


def main():
    if "--start" in sys.argv:
        args = [a for a in sys.argv[1:] if not a.startswith("--")]
        start_split(args[0], int(args[1]), int(args[2]))
        return
    args = [a for a in sys.argv[1:] if a != "--detail"]
    detail = "--detail" in sys.argv
    directory, low, high, scenarios = args[0], int(args[1]), int(args[2]), args[3:]
    kinds = [k for k, _ in RULES] + ["other"]
    columns = []
    details = []
    for s in scenarios:
        for side in ("ours", "b3"):
            # B3's driver has no S5 (two filters) or start mode: those columns are ours only.
            if not os.path.exists(f"{directory}/{side}-{s}-{low}.out"):
                continue
            per = per_request(directory, side, s, low, high)
            by_kind = {k: 0.0 for k in kinds}
            for name, d in per.items():
                by_kind[kind(name)] += d
                details.append((s, side, kind(name), name, d))
            columns.append((f"{s.upper()} {'ours' if side == 'ours' else 'B3'}", by_kind, sum(per.values())))
    print("| Kind of work | " + " | ".join(c[0] for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for k in kinds:
        cells = []
        for _, by_kind, total in columns:
            cells.append(f"{by_kind[k]:,.0f} ({100 * by_kind[k] / total:.0f}%)" if total else "-")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print("| **total per request** | " + " | ".join(f"**{c[2]:,.0f}**" for c in columns) + " |")
    if detail:
        print()
        for s, side, k, name, d in sorted(details, key=lambda x: (x[0], x[1], x[2], -x[4])):
            if d >= 200:
                print(f"{s}\t{side}\t{k}\t{d:,.0f}\t{name}")


main()
