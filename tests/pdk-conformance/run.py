#!/usr/bin/env python3
"""Kong's PDK tests (`t/01-pdk/` of a Kong checkout) through our .wasm on `wasm-harness`.

Reads the Test::Nginx `.t` files of a Kong checkout at run time (nothing of Kong's is
committed here), translates each test it can into a harness chain + request, runs them,
and prints pass/fail per area and every skip with its reason. docs/harness.md
("Kong's PDK tests: the conformance runner") says what the translation does.

    python3 tests/pdk-conformance/run.py --kong PATH [--harness BIN] [--module WASM]
        [--profile envoy|kong] [--only SUBSTRING] [--report FILE] [-v]

PATH is a Kong work tree (with t/01-pdk) or a bare git directory of Kong (read at HEAD,
or at --rev). Standard library only.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

PROFILE = "envoy"  # set from --profile
MODULE_CACHE = None  # set from --module-cache
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# ---------------------------------------------------------------------------------------
# Reading a Kong checkout
# ---------------------------------------------------------------------------------------

class Checkout:
    """A Kong work tree or bare git dir; lists and reads files under t/01-pdk."""

    def __init__(self, path, rev="HEAD"):
        self.path = path
        self.rev = rev
        if os.path.isdir(os.path.join(path, "t", "01-pdk")):
            self.git = None
        elif os.path.exists(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects")):
            self.git = path
        elif os.path.isdir(os.path.join(path, ".git")):
            self.git = os.path.join(path, ".git")
        else:
            raise SystemExit(f"{path}: neither a Kong work tree (t/01-pdk) nor a git directory")

    def describe(self):
        if self.git is None:
            head = self._git_out(["-C", self.path, "rev-parse", "HEAD"], check=False)
            return f"{self.path}" + (f" (HEAD {head[:12]})" if head else "")
        commit = self._git_out(["--git-dir", self.git, "rev-parse", self.rev])
        return f"{self.path} at {self.rev} ({commit[:12]})"

    @staticmethod
    def _git_out(args, check=True):
        r = subprocess.run(["git"] + args, capture_output=True, text=True)
        if r.returncode != 0:
            if check:
                raise SystemExit(f"git {' '.join(args)}: {r.stderr.strip()}")
            return ""
        return r.stdout.strip()

    def test_files(self):
        if self.git is None:
            base = os.path.join(self.path, "t", "01-pdk")
            out = []
            for d, _, files in os.walk(base):
                for f in files:
                    if f.endswith(".t"):
                        out.append(os.path.relpath(os.path.join(d, f), self.path))
            return sorted(out)
        names = self._git_out(["--git-dir", self.git, "ls-tree", "-r", "--name-only", self.rev, "t/01-pdk"]).splitlines()
        return sorted(n for n in names if n.endswith(".t"))

    def read(self, rel):
        if self.git is None:
            with open(os.path.join(self.path, rel), encoding="utf-8", errors="replace") as f:
                return f.read()
        r = subprocess.run(["git", "--git-dir", self.git, "show", f"{self.rev}:{rel}"], capture_output=True)
        if r.returncode != 0:
            raise SystemExit(f"git show {rel}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------
# Test::Nginx blocks
# ---------------------------------------------------------------------------------------

class Block:
    def __init__(self, file, number, name):
        self.file = file
        self.number = number
        self.name = name
        self.sections = {}  # name -> (modifiers list, value)

    @property
    def id(self):
        return f"{self.file[len('t/01-pdk/'):]} TEST {self.number}"


SECTION_RE = re.compile(r"^--- (\w+)(.*)$")



# Not a host property: carried with a case's properties (so batches share it) into the
# chain's `default_type` (Kong profile: nginx's `default_type` of the filters' location).
DEFAULT_TYPE_KEY = "__default_type"

def parse_blocks(rel, text):
    """The `=== TEST` blocks of a Test::Nginx file, with their `--- section`s."""
    data = text.split("\n__DATA__\n", 1)
    if len(data) < 2:
        return []
    lines = data[1].split("\n")
    blocks = []
    block = None
    current = None
    for line in lines:
        if line.startswith("=== "):
            m = re.match(r"=== TEST (\d+)\s*:?\s*(.*)", line)
            number = m.group(1) if m else str(len(blocks) + 1)
            name = m.group(2).strip() if m else line[4:].strip()
            block = Block(rel, number, name)
            blocks.append(block)
            current = None
            continue
        if block is None:
            continue
        m = SECTION_RE.match(line)
        if m:
            name, rest = m.group(1), m.group(2)
            mods, inline = rest, None
            if ":" in rest:
                mods, inline = rest.split(":", 1)
            block.sections[name] = [mods.split(), []]
            current = block.sections[name]
            if inline is not None and inline.strip():
                current[1].append(inline.strip())
            continue
        if current is not None:
            current[1].append(line)
    for b in blocks:
        for name, (mods, value_lines) in list(b.sections.items()):
            value = "\n".join(value_lines)
            # Test::Base: trailing blank lines between blocks are not part of a section.
            value = value.rstrip("\n") + "\n" if value.strip() else ""
            if "chop" in mods or "chomp" in mods:
                value = value[:-1] if value.endswith("\n") else value
            b.sections[name] = (mods, value)
    return blocks


# ---------------------------------------------------------------------------------------
# The few Perl expressions the files use in `eval` sections
# ---------------------------------------------------------------------------------------

class Regex:
    def __init__(self, pattern, flags=""):
        self.pattern = pattern
        self.flags = flags

    def compile(self):
        f = 0
        if "s" in self.flags:
            f |= re.S
        if "i" in self.flags:
            f |= re.I
        if "m" in self.flags:
            f |= re.M
        if "x" in self.flags:
            f |= re.X
        return re.compile(perl_to_python_regex(self.pattern), f)

    def __repr__(self):
        return f"qr/{self.pattern}/{self.flags}"


def perl_to_python_regex(p):
    # \z is Python's \Z; Perl's \Z (before a final newline) has no exact twin.
    return p.replace(r"\z", r"\Z")


class PerlError(Exception):
    pass


PERL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "$": "$", "@": "@", "e": "\x1b"}


def perl_eval(src, env=None):
    """Evaluates Perl string/regex/array expressions: "..." '...' qq{} qr/../ x . [ , ]."""
    env = env or {}
    pos = 0
    n = len(src)

    def skip_ws():
        nonlocal pos
        while pos < n:
            if src[pos].isspace():
                pos += 1
            elif src[pos] == "#":
                while pos < n and src[pos] != "\n":
                    pos += 1
            else:
                break

    def interpolate(s):
        def var(m):
            name = m.group(1) or m.group(2)
            if name in env:
                return env[name]
            raise PerlError(f"unknown Perl variable ${name}")
        return re.sub(r"\$ENV\{(\w+)\}|\$([\w:]+)", lambda m: var_env(m) if m.group(1) else var(m), s)

    def var_env(m):
        key = "ENV:" + m.group(1)
        if key in env:
            return env[key]
        raise PerlError(f"unknown environment variable $ENV{{{m.group(1)}}}")

    def dq(body):
        out = []
        i = 0
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                e = body[i + 1]
                if e == "x" and i + 3 < len(body) + 1:
                    hexd = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:])
                    if hexd:
                        out.append(chr(int(hexd.group(0), 16)))
                        i += 2 + len(hexd.group(0))
                        continue
                out.append(PERL_ESCAPES.get(e, e))
                i += 2
                continue
            if c == "$":
                m = re.match(r"\$ENV\{(\w+)\}|\$([\w:]+)", body[i:])
                if m:
                    out.append(interpolate(m.group(0)))
                    i += len(m.group(0))
                    continue
            out.append(c)
            i += 1
        return "".join(out)

    def delimited(open_c):
        nonlocal pos
        close_c = {"{": "}", "(": ")", "[": "]", "<": ">"}.get(open_c, open_c)
        depth = 1
        start = pos
        while pos < n:
            c = src[pos]
            if c == "\\":
                pos += 2
                continue
            if c == open_c and close_c != open_c:
                depth += 1
            elif c == close_c:
                depth -= 1
                if depth == 0:
                    body = src[start:pos]
                    pos += 1
                    return body
            pos += 1
        raise PerlError("unterminated quote")

    def primary():
        nonlocal pos
        skip_ws()
        if pos >= n:
            raise PerlError("unexpected end")
        c = src[pos]
        if c == '"':
            pos += 1
            return dq(delimited('"'))
        if c == "'":
            pos += 1
            body = delimited("'")
            return body.replace("\\'", "'").replace("\\\\", "\\")
        if src.startswith("qq", pos) and not src[pos + 2].isalnum():
            pos += 2
            skip_ws()
            d = src[pos]
            pos += 1
            return dq(delimited(d))
        if src.startswith("qr", pos) and not src[pos + 2].isalnum():
            pos += 2
            d = src[pos]
            pos += 1
            body = delimited(d)
            m = re.match(r"[a-z]*", src[pos:])
            pos += len(m.group(0))
            return Regex(interpolate_regex(body), m.group(0))
        if c == "(":
            pos += 1
            v = expr()
            skip_ws()
            if pos >= n or src[pos] != ")":
                raise PerlError("missing )")
            pos += 1
            return v
        if c == "[":
            pos += 1
            items = []
            while True:
                skip_ws()
                if pos < n and src[pos] == "]":
                    pos += 1
                    return items
                items.append(expr())
                skip_ws()
                if pos < n and src[pos] == ",":
                    pos += 1
        m = re.match(r"\d+", src[pos:])
        if m:
            pos += len(m.group(0))
            return int(m.group(0))
        m = re.match(r"\$([\w:]+)", src[pos:])
        if m:
            pos += len(m.group(0))
            return interpolate(m.group(0))
        raise PerlError(f"cannot read Perl at {src[pos:pos + 20]!r}")

    def interpolate_regex(body):
        return re.sub(r"\$ENV\{(\w+)\}", lambda m: var_env(m), body)

    def term():
        nonlocal pos
        v = primary()
        while True:
            skip_ws()
            if pos < n and src[pos] == "x" and (pos + 1 >= n or not src[pos + 1].isalnum()):
                pos += 1
                count = primary()
                v = str(v) * int(count)
            else:
                return v

    def expr():
        nonlocal pos
        v = term()
        while True:
            skip_ws()
            if pos < n and src[pos] == "." and not src.startswith("..", pos):
                pos += 1
                w = term()
                v = str(v) + str(w)
            else:
                return v

    value = expr()
    skip_ws()
    if pos < n and src[pos] == ";":
        pos += 1
        skip_ws()
    if pos != n:
        raise PerlError(f"trailing Perl {src[pos:pos + 30]!r}")
    return value


# ---------------------------------------------------------------------------------------
# nginx configuration
# ---------------------------------------------------------------------------------------

class Directive:
    def __init__(self, name, args, block=None, lua=None):
        self.name = name
        self.args = args
        self.block = block  # list of Directive, for `server {}` / `location {}` / `if {}`
        self.lua = lua  # Lua source of a *_by_lua_block

    def __repr__(self):
        return f"Directive({self.name} {self.args})"


class NginxError(Exception):
    pass


def lua_block_end(src, pos):
    """Index of the `}` closing a Lua block whose `{` is just before pos (Lua-aware)."""
    depth = 1
    n = len(src)
    while pos < n:
        c = src[pos]
        if c == "-" and src.startswith("--", pos):
            m = re.match(r"--\[(=*)\[", src[pos:])
            if m:
                close = "]" + m.group(1) + "]"
                end = src.find(close, pos + len(m.group(0)))
                pos = n if end < 0 else end + len(close)
            else:
                end = src.find("\n", pos)
                pos = n if end < 0 else end
            continue
        if c == "[":
            m = re.match(r"\[(=*)\[", src[pos:])
            if m:
                close = "]" + m.group(1) + "]"
                end = src.find(close, pos + len(m.group(0)))
                pos = n if end < 0 else end + len(close)
                continue
        if c in "\"'":
            pos += 1
            while pos < n and src[pos] != c:
                if src[pos] == "\\":
                    pos += 1
                pos += 1
            pos += 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise NginxError("unterminated Lua block")


def parse_nginx(src):
    """nginx directives, `*_by_lua_block` bodies kept as Lua source."""
    pos = 0
    n = len(src)

    def parse_list(top):
        nonlocal pos
        items = []
        while True:
            # whitespace and comments
            while pos < n:
                if src[pos].isspace():
                    pos += 1
                elif src[pos] == "#":
                    while pos < n and src[pos] != "\n":
                        pos += 1
                else:
                    break
            if pos >= n:
                if not top:
                    raise NginxError("missing }")
                return items
            if src[pos] == "}":
                if top:
                    raise NginxError("unexpected }")
                pos += 1
                return items
            words = []
            while True:
                while pos < n and src[pos] in " \t\r\n":
                    pos += 1
                if pos >= n:
                    raise NginxError("unexpected end of configuration")
                c = src[pos]
                if c == ";":
                    pos += 1
                    items.append(Directive(words[0], words[1:]))
                    break
                if c == "{":
                    pos += 1
                    if words and words[0].endswith("_by_lua_block"):
                        end = lua_block_end(src, pos)
                        items.append(Directive(words[0], words[1:], lua=src[pos:end]))
                        pos = end + 1
                    else:
                        items.append(Directive(words[0], words[1:], block=parse_list(False)))
                    break
                if c in "\"'":
                    end = pos + 1
                    while end < n and src[end] != c:
                        if src[end] == "\\":
                            end += 1
                        end += 1
                    words.append(src[pos + 1:end])
                    pos = end + 1
                    continue
                m = re.match(r"[^\s;{}\"']+", src[pos:])
                if not m:
                    raise NginxError(f"cannot read {src[pos:pos + 20]!r}")
                words.append(m.group(0))
                pos += len(m.group(0))
        return items

    return parse_list(True)


def location_for(locations, uri):
    """nginx's location choice: `=` exact, longest prefix (`^~` stops), then regexes, on the
    URI as nginx matches it: %XX decoded, slashes merged (ngx_http_parse_complex_uri)."""
    path = re.sub(r"/{2,}", "/", urllib.parse.unquote(uri.split("?", 1)[0], errors="surrogateescape"))
    best = None
    for loc in locations:
        args = loc.args
        if len(args) == 2 and args[0] == "=" and args[1] == path:
            return loc
    for loc in locations:
        args = loc.args
        if len(args) == 1 or (len(args) == 2 and args[0] == "^~"):
            prefix = args[-1]
            if path.startswith(prefix) and (best is None or len(prefix) > len(best.args[-1])):
                best = loc
    if best is not None and best.args[0] == "^~":
        return best
    for loc in locations:
        args = loc.args
        if len(args) == 2 and args[0] in ("~", "~*"):
            if re.search(args[1], path, re.I if args[0] == "~*" else 0):
                return loc
    return best


# ---------------------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------------------

class Skip(Exception):
    pass


PHASES = ["rewrite", "access", "header_filter", "body_filter", "log"]
# (a closing parenthesis only with the blank before it: a newline after the string stays)
PDK_REQUIRE_RE = re.compile(r"""require\s*\(?\s*["']kong\.pdk["'](?:\s*\))?""")
# Kong's nginx template variables the PDK tests set to imitate Kong's proxy location:
# our hosts do what they stand for (the upstream request is the filter's own).
TEMPLATE_SETS = {"$upstream_uri", "$upstream_scheme", "$upstream_host"}
# Directives that do not change what a test observes through the filter.
IGNORED = {"server_tokens", "proxy_ssl_verify", "internal", "proxy_http_version", "lua_need_request_body"}

ENV = {
    "t::Util::HttpConfig": "",
    "ENV:TEST_NGINX_NXSOCK": "NXSOCK",
    "ENV:TEST_NGINX_HTML_DIR": "NXSOCK",
    "ENV:TEST_NGINX_SERVER_PORT": "1984",
    "ENV:TEST_NGINX_CERT_DIR": "CERTS",
}

NGINX_LEVELS = {"trace": "debug", "debug": "debug", "info": "info", "warn": "warn", "error": "error", "critical": "crit"}


class Case:
    """A runnable test: the location's phases, the request, expectations."""

    def __init__(self, block):
        self.block = block
        self.phases = {}  # phase -> Lua source
        self.request = None
        self.content_type = "text/plain"
        self.upstream = None  # None: content emulation; else dict describing the mock server
        self.expect = {}
        self.notes = []


def section(block, name):
    v = block.sections.get(name)
    return v


def value_of(block, name):
    """A section's value: text, or the Perl expression's value for `eval` sections."""
    mods, text = block.sections[name]
    if "eval" in mods:
        try:
            return perl_eval(text.strip(), ENV)
        except PerlError as e:
            raise Skip(f"`--- {name} eval` uses Perl this runner does not evaluate ({e})")
    return text


def env_subst(text):
    return text.replace("$TEST_NGINX_NXSOCK", "NXSOCK").replace("$TEST_NGINX_HTML_DIR", "NXSOCK") \
        .replace("$TEST_NGINX_SERVER_PORT", "1984").replace("$TEST_NGINX_CERT_DIR", "CERTS")


def translate_lua(src):
    """The test's Lua with Kong's PDK construction turned into the filter's `kong`."""
    if not PDK_REQUIRE_RE.search(src):
        return src
    # parenthesised, so `require "kong.pdk".new()` stays a valid expression; the filter's
    # `kong` is taken before the test's code runs, since some tests assign the global
    # `kong` a table of their own first (as Kong's globals would be); on the first line,
    # so the test's line numbers stay as they are
    return "local __kong_pdk = kong " + PDK_REQUIRE_RE.sub("({ new = function() return __kong_pdk end })", src)


def location_phases(loc, where):
    """Phases of a location: {phase: lua}, content folded into access; other directives."""
    phases = {}
    content = None
    other = []
    for d in loc.block:
        if d.lua is not None:
            phase = d.name[:-len("_by_lua_block")]
            if phase == "content":
                content = d.lua
            elif phase in PHASES:
                phases[phase] = d.lua
            else:
                raise Skip(f"{d.name} in {where}: no such phase in the filter")
        elif d.name.endswith("_by_lua") or d.name.endswith("_by_lua_file"):
            raise Skip(f"`{d.name}` in {where}: only *_by_lua_block is translated")
        else:
            other.append(d)
    if content is not None and not phases and re.search(r"\blog\.serialize\b", content) \
            and not re.search(r"\bngx\.(say|print|exit)\b|\bresponse\.exit\b", content):
        # A content block that calls kong.log.serialize() (log phase only) with a PDK of its
        # own (`PDK.new()`, no global `kong`): Kong's phase check lets every call through
        # there (kong/pdk/private/phases.lua, check_phase: "no _G.kong, we are likely in
        # tests"). The filter always checks phases, so the block runs where serialize() is
        # allowed, the log phase; it sends nothing, so the answer is nginx's empty one.
        phases["log"] = content
        phases["__content"] = True
        return phases, other
    if content is not None:
        # content_by_lua runs as the end of access: its ngx.say output is the response.
        phases["access"] = (phases.get("access", "") + "\n" + content) if "access" in phases else content
        phases["__content"] = True
        # nginx's content phase answers with the status its Lua set (`ngx.status = N`)
        # when it sent nothing itself; the runner's stand-in answer takes that status
        statuses = re.findall(r"\bngx\.status\s*=\s*(\d{3})\b", content)
        if statuses:
            phases["__content_status"] = int(statuses[-1])
    return phases, other


def translate(block):
    s = block.sections
    if "SKIP" in s or "skip_eval" in s or "skip_nginx" in s:
        raise Skip("marked to be skipped in Kong's file")
    for name in ("stream_config", "stream_server_config", "stream_request", "stream_response"):
        if name in s:
            raise Skip("stream subsystem (a proxy-wasm HTTP filter has no stream phases)")
    for name, reason in (("raw_request", "raw request bytes"), ("pipelined_requests", "pipelined requests"),
                         ("timeout", "`--- timeout`-dependent"), ("wait", "`--- wait` (timers after the request)"),
                         ("user_files", "needs files under the test's html dir"),
                         ("error_log_file", "reads a separate error log file"),
                         ("main_config", "nginx main config"), ("log_level", "changes nginx's log level")):
        if name in s:
            raise Skip(reason)
    if "config" not in s:
        raise Skip("no `--- config`")

    # http_config: servers (mock upstreams) and init phases
    servers = []
    if "http_config" in s:
        http = value_of(block, "http_config")
        if not isinstance(http, str):
            raise Skip("http_config is not text")
        try:
            for d in parse_nginx(env_subst(http)):
                if d.name in ("init_by_lua_block", "init_by_lua"):
                    raise Skip("init_by_lua in http_config (no such phase in a filter)")
                if d.name in ("init_worker_by_lua_block", "init_worker_by_lua"):
                    raise Skip("init_worker_by_lua in http_config (no such phase in a filter)")
                if d.name == "server":
                    servers.append(d)
                elif d.name in ("lua_package_path", "lua_shared_dict", "lua_socket_log_errors"):
                    if d.name == "lua_shared_dict":
                        raise Skip("lua_shared_dict (no ngx.shared in a proxy-wasm filter)")
                elif d.name == "upstream":
                    raise Skip("nginx `upstream` block with balancer_by_lua")
                else:
                    raise Skip(f"http_config directive `{d.name}`")
        except NginxError as e:
            raise Skip(f"http_config not parsed ({e})")

    try:
        config = parse_nginx(env_subst(s["config"][1]))
    except NginxError as e:
        raise Skip(f"config not parsed ({e})")
    locations = [d for d in config if d.name == "location"]
    for d in config:
        if d.name not in ("location",) and d.name not in IGNORED:
            raise Skip(f"server-level directive `{d.name}` in config")

    case = Case(block)
    req = request_of(block)
    case.request = req
    loc = location_for(locations, req["path"])
    if loc is None:
        raise Skip(f"no location for {req['path']}")
    phases, other = location_phases(loc, "the test's location")
    proxy = None
    for d in other:
        if d.name == "proxy_pass":
            proxy = d.args[0]
        elif d.name == "set" and d.args and d.args[0] in TEMPLATE_SETS:
            pass
        elif d.name == "proxy_set_header" and d.args[:2] == ["Host", "$upstream_host"]:
            pass
        elif d.name == "default_type":
            case.content_type = d.args[0] if d.args else ""
        elif d.name in ("set_real_ip_from", "real_ip_header"):
            raise Skip("nginx realip module (`set_real_ip_from`/`real_ip_header`): the client address is the host's own setting")
        elif d.name in ("ssl_certificate_by_lua_block", "ssl_client_hello_by_lua_block"):
            raise Skip("TLS handshake phase")
        elif d.name in IGNORED:
            pass
        else:
            raise Skip(f"nginx directive `{d.name}` in the test's location")
    if proxy is not None:
        if "__content" in phases:
            raise Skip("location has both content_by_lua and proxy_pass")
        if proxy.startswith("https:") or any(d.name.startswith("proxy_ssl") for d in other):
            raise Skip("proxies over TLS")
        # `:$upstream_uri`: Kong's template sends the filter's upstream path, as our hosts do
        proxy = re.sub(r"(nginx\.sock):\$upstream_uri$", r"\1", proxy)
        if "$" in proxy:
            raise Skip(f"proxy_pass to a variable URL ({proxy})")
        m = re.match(r"http://unix:/*NXSOCK/nginx\.sock(.*)$", proxy)
        target = None
        if m:
            for srv in servers:
                for d in srv.block:
                    if d.name == "listen" and "NXSOCK/nginx.sock" in d.args[0]:
                        target = srv
                        if any(a == "ssl" or a == "proxy_protocol" for a in d.args[1:]):
                            raise Skip(f"mock upstream listens with {' '.join(d.args[1:])}")
        else:
            m2 = re.match(r"http://(127\.0\.0\.1|localhost):(\d+)(.*)$", proxy)
            if m2:
                port = m2.group(2)
                if port == "1984":
                    target = Directive("server", [], block=config)
                for srv in servers:
                    for d in srv.block:
                        if d.name == "listen" and d.args[0].split(":")[-1] == port:
                            target = srv
        # no server behind it: fine as long as the request never gets there
        case.upstream = {"server": target, "proxy": proxy}
        for d in (target.block if target is not None else []):
            if d.name in ("ssl_certificate", "ssl_certificate_key"):
                raise Skip("mock upstream serves TLS")
    elif not phases:
        raise Skip("the location has no Lua phase")
    lua = {}
    for phase in PHASES:
        if phase in phases:
            code = translate_lua(phases[phase])
            check_lua(code)
            lua[phase] = code
    case.phases = lua
    case.content = "__content" in phases
    case.content_status = phases.get("__content_status", 200)
    case.properties = {}
    if re.search(r"ngx\.req\.http_version\s*=\s*function\s*\(\s*\)\s*return\s*2\b", " ".join(lua.values())):
        # the test stands in an HTTP/2 client (gRPC) by replacing ngx.req.http_version; the
        # filter reads the version from the host: the request comes as HTTP/2 instead
        case.properties["request.protocol"] = "HTTP/2"
    trusted = trusted_ips(" ".join(lua.values()))
    case.mocks_trust = bool(re.search(r"\.ip\.is_trusted\s*=\s*function\s*\([^)]*\)\s*return\s+true\s+end",
                                      " ".join(lua.values())))
    if case.mocks_trust and PROFILE == "kong":
        # the test mocks kong.ip.is_trusted to trust every address; the filter does not call
        # its PDK through the Lua table, so on Kong the same trust comes from its
        # configuration (on Envoy, which has no such setting: see not_runnable)
        trusted = trusted + ["0.0.0.0/0", "::/0"]
    if trusted:
        if PROFILE == "envoy":
            raise Skip("PDK.new({trusted_ips = ...}): the filter on Envoy has no trusted_ips setting (it trusts nothing, Kong's default); run with --profile kong")
        # Kong's engine: the filter reads trusted_ips from kong.configuration (src/pdk/kong/ip.rs)
        case.properties["kong.configuration.trusted_ips"] = json.dumps(trusted)
    host_ports = HOST_PORTS_RE.search(" ".join(lua.values()))
    if host_ports:
        if PROFILE == "envoy":
            raise Skip("PDK.new({host_ports = ...}): the filter on Envoy has no Kong configuration (host_ports, from Kong's port_maps); run with --profile kong")
        # Kong's engine: the filter reads host_ports from kong.configuration; the key is the
        # server port, which is the harness's (tests/harness/src/props.rs SERVER_PORT)
        case.properties["kong.configuration.host_ports"] = json.dumps({str(HARNESS_SERVER_PORT): int(host_ports.group(1))})
    if PROFILE == "kong" and case.content_type:
        # nginx gives a local response without a Content-Type the location's default_type
        # (checked by hand in Kong's engine, docs/hosts.md): the harness's default_type
        case.properties[DEFAULT_TYPE_KEY] = case.content_type
    case.expect = expectations(block)
    return case


# `host_ports = { [tonumber(ngx.var.server_port)] = N }` handed to PDK.new (Kong's port_maps)
HOST_PORTS_RE = re.compile(r"host_ports\s*=\s*\{\s*\[\s*tonumber\s*\(\s*ngx\.var\.server_port\s*\)\s*\]\s*=\s*(\d+)\s*,?\s*\}")
# the port the harness's requests arrive on (tests/harness/src/props.rs, SERVER_PORT)
HARNESS_SERVER_PORT = 8000


UNSUPPORTED_LUA = [
    (re.compile(r"ngx\.location\.capture"), "ngx.location.capture (subrequests)"),
    (re.compile(r"kong\.pdk\.private\.phases|phase_check_functions"), "Kong's phase-check harness (init_by_lua's phase_check_functions)"),
    (re.compile(r"""require\s*\(?\s*["']kong\.(runloop|globalpatches|pdk\.private\.rate_limiting|deprecation)"""), None),
    (re.compile(r"ngx\.shared\."), "ngx.shared (no shared dictionaries in proxy-wasm)"),
    (re.compile(r"ngx\.timer\."), "ngx.timer (no timers)"),
    (re.compile(r"ngx\.socket|ngx\.thread"), "cosockets/light threads"),
    (re.compile(r"""require\s*\(?\s*["'](resty\.openssl|ngx\.ssl)"""), "TLS (resty.openssl / ngx.ssl)"),
    (re.compile(r"""require\s*\(?\s*["']ffi["']"""), "LuaJIT FFI"),
    (re.compile(r"\bio\.(open|lines|read|popen)\b"), "reads files or runs programs (io.open, io.popen): a filter has no file system or processes"),
    (re.compile(r"""package\.loaded\s*\[\s*["']kong\."""), "replaces one of Kong's internal modules through package.loaded (a chunk has no `package`; the PDK here is not built from those modules)"),
]


TRUSTED_RE = re.compile(r"trusted_ips\s*=\s*\{([^}]*)\}")


def trusted_ips(code):
    """The addresses of a `trusted_ips = { ... }` the test hands to PDK.new, if any."""
    found = []
    for m in TRUSTED_RE.finditer(code):
        found += re.findall(r"[\"']([^\"']+)[\"']", m.group(1))
    return found


def check_lua(code):
    for regex, reason in UNSUPPORTED_LUA:
        m = regex.search(code)
        if m:
            raise Skip(reason or f"requires Kong's internal module ({m.group(0).split(chr(34))[-1] if chr(34) in m.group(0) else m.group(0)}), not a PDK function")


def request_of(block):
    s = block.sections
    if "request" not in s:
        raise Skip("no `--- request`")
    text = value_of(block, "request")
    if not isinstance(text, str):
        raise Skip("several requests in one test")
    text = text.lstrip("\n")
    line, _, body = text.partition("\n")
    line = line.rstrip("\r")
    parts = line.split()
    if len(parts) < 2:
        raise Skip(f"request line {line!r}")
    method, target = parts[0], parts[1]
    headers = []
    host = "localhost"
    absolute = re.match(r"https?://([^/]+)(/.*)?$", target, re.I)
    if absolute:
        # absolute-form request line: nginx takes the host from it, over any Host header
        # (Envoy's codec makes it the :authority too)
        host = absolute.group(1)
        target = absolute.group(2) or "/"
    if len(parts) > 2 and parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        raise Skip(f"request line protocol {parts[2]}")
    if len(parts) > 2 and parts[2] == "HTTP/1.0":
        raise Skip("HTTP/1.0 request")
    if "more_headers" in s:
        mh = value_of(block, "more_headers")
        for hl in mh.split("\n"):
            if not hl.strip():
                continue
            if ":" not in hl:
                raise Skip(f"more_headers line {hl!r}")
            name, value = hl.split(":", 1)
            headers.append([name.strip(), value.strip()])
    if absolute:
        headers = [h for h in headers if h[0].lower() != "host"]
    if not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ["Host", host])
    req = {"method": method, "path": target, "headers": headers}
    # Test::Nginx: the request section's text after the first line is the body
    if body != "" and body != "\n":
        if body.endswith("\n") and "eval" not in s["request"][0]:
            body = body[:-1]
        length = [v for n, v in headers if n.lower() == "content-length"]
        if length and length[0].isdigit():
            # nginx reads Content-Length bytes; the rest is not this request's body
            body = body.encode()[:int(length[0])].decode(errors="replace")
        elif not any(n.lower() == "transfer-encoding" for n, _ in headers):
            headers.append(["Content-Length", str(len(body.encode()))])
        if body:
            req["body"] = body
    return req


def expectations(block):
    s = block.sections
    e = {}
    e["status"] = 200
    if "error_code" in s:
        v = value_of(block, "error_code")
        try:
            e["status"] = int(str(v).strip())
        except ValueError:
            raise Skip(f"error_code {v!r}")
    if "response_body" in s:
        v = value_of(block, "response_body")
        e["body"] = v
    if "response_body_like" in s:
        v = value_of(block, "response_body_like")
        e["body_like"] = v if isinstance(v, Regex) else Regex(v, "s")
    if "response_body_unlike" in s:
        v = value_of(block, "response_body_unlike")
        e["body_unlike"] = v if isinstance(v, Regex) else Regex(v, "s")
    if "no_response_body" in s:
        e["body"] = ""
    if "response_headers" in s:
        e["headers"] = header_lines(value_of(block, "response_headers"))
    if "response_headers_like" in s:
        e["headers_like"] = header_lines(value_of(block, "response_headers_like"))
    for name in ("error_log", "no_error_log"):
        if name in s:
            v = value_of(block, name)
            if isinstance(v, list):
                items = v
            elif isinstance(v, Regex):
                items = [v]
            else:
                items = [l for l in str(v).split("\n") if l.strip() != ""]
            e[name] = items
    return e


def header_lines(text):
    out = []
    for l in str(text).split("\n"):
        if not l.strip():
            continue
        if l.startswith("!"):
            out.append((l[1:].strip(), None))
            continue
        name, _, value = l.partition(":")
        out.append((name.strip(), value.strip()))
    return out


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------

MARK = "x-pdk-conformance-case"


def guard(code, index):
    # one line, so the test's line numbers stay as they are
    return f"if not ngx.ctx.__pdk_conformance then return end " + code


def filter_of(name, phases, module, index=None):
    config = {}
    for phase in PHASES:
        if phase in phases:
            config[phase] = [phases[phase] if index is None else guard(phases[phase], index)]
    if index is not None:
        # the case's own filter removes the marker before the test's code runs, so neither
        # the test, the filters after it nor the upstream see it
        pick = (f"ngx.ctx.__pdk_conformance = (ngx.req.get_headers()[{MARK!r}] == {str(index)!r}) "
                f"if ngx.ctx.__pdk_conformance then ngx.req.clear_header({MARK!r}) end")
        config["rewrite"] = [pick] + config.get("rewrite", [])
    return {"name": name, "module": module, "config": config}


class Harness:
    def __init__(self, binary, module, profile, workdir, verbose=False):
        self.binary = binary
        self.module = module
        self.profile = profile
        self.workdir = workdir
        self.verbose = verbose
        self.runs = 0
        self.seconds = 0.0

    def run(self, filters, requests, properties=None):
        """Runs requests through the chain; a list of outcomes, or raises RuntimeError."""
        chain = {"filters": filters, "vm_config": {"untrusted_lua": "on"}}
        properties = dict(properties or {})
        if DEFAULT_TYPE_KEY in properties:
            chain["default_type"] = properties.pop(DEFAULT_TYPE_KEY)
        if self.profile == "envoy":
            # As envoy/envoy.yaml ships it: Envoy 1.35 with allow_on_headers_stop_iteration,
            # and the VM configuration telling the filter so.
            chain["envoy"] = {"version": "1.35", "allow_on_headers_stop_iteration": True}
            chain["vm_config"]["envoy_allow_on_headers_stop_iteration"] = True
        if properties:
            chain["properties"] = properties
        cpath = os.path.join(self.workdir, "chain.json")
        rpath = os.path.join(self.workdir, "requests.json")
        with open(cpath, "w") as f:
            json.dump(chain, f)
        with open(rpath, "w") as f:
            json.dump(requests, f)
        cmd = [self.binary, "run", cpath, rpath, "--format", "json", "--profile", self.profile]
        t0 = time.time()
        env = dict(os.environ)
        if MODULE_CACHE:
            # the harness keeps the compiled module there: ~2 s of compilation per run saved
            env["WASM_HARNESS_MODULE_CACHE"] = MODULE_CACHE
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        self.seconds += time.time() - t0
        self.runs += 1
        if r.returncode != 0:
            raise RuntimeError((r.stderr or r.stdout).strip()[-2000:])
        out = json.loads(r.stdout)
        return out if isinstance(out, list) else [out]


# nginx answers HTTP/1.1 with no Content-Length chunked (ngx_http_chunked_filter_module.c:
# content_length_n == -1 on an HTTP/1.1 request), as a content_by_lua location does: a
# host's HTTP/1 codec then learns that the body is empty only from the last chunk (Envoy
# calls the body callback for it; see docs/hosts.md).
CHUNKED = ["transfer-encoding", "chunked"]


def content_upstream(case):
    """What nginx's content phase answers when the test's Lua sent nothing itself."""
    headers = [["content-type", case.content_type]] if case.content_type else []
    return {"status": getattr(case, "content_status", 200), "headers": headers + [CHUNKED], "body": ""}


def mock_case(case, received):
    """The mock upstream location for the request the upstream received, as phases."""
    server = case.upstream["server"]
    if server is None:
        raise Skip(f"the request reaches proxy_pass {case.upstream['proxy']}, which no server of the test's config answers (nginx: 502)")
    if received["method"] == "TRACE":
        # nginx refuses TRACE before any location (ngx_http_request.c: NGX_HTTP_NOT_ALLOWED)
        page = ("<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n"
                "<center><h1>405 Not Allowed</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
        return None, {"status": 405, "headers": [["content-type", "text/html"]], "body": page}
    locations = [d for d in server.block if d.name == "location"]
    loc = location_for(locations, received["path"])
    if loc is None:
        raise Skip(f"mock upstream has no location for {received['path']}")
    phases, other = location_phases(loc, "the mock upstream")
    ret = None
    for d in other:
        if d.name == "return":
            ret = d.args
        elif d.name in IGNORED or d.name in ("default_type",):
            pass
        else:
            raise Skip(f"mock upstream directive `{d.name}`")
    lua = {p: translate_lua(phases[p]) for p in PHASES if p in phases}
    for code in lua.values():
        check_lua(code)
    ctype = "text/plain"
    for d in other:
        if d.name == "default_type":
            ctype = d.args[0] if d.args else ""
    if ret is not None:
        if lua:
            raise Skip("mock upstream mixes `return` and Lua")
        status = int(ret[0])
        body = ret[1] if len(ret) > 1 else ""
        return None, {"status": status, "headers": [["content-type", ctype]] if body else [], "body": body}
    if not lua:
        raise Skip("mock upstream location has no Lua and no `return`")
    return lua, {"status": phases.get("__content_status", 200), "headers": ([["content-type", ctype]] if ctype else []) + [CHUNKED], "body": ""}


HOP = {"content-length", "transfer-encoding", "connection", "date", "server", MARK}


def ows(value):
    """A header value as an HTTP/1.1 recipient reads it: optional whitespace around it is
    not part of the value (RFC 9110 section 5.5; nginx's and Test::Nginx's parsers)."""
    return value.strip(" \t")


def as_upstream(outcome, mock_lua):
    """The mock upstream's answer as the test's location receives it: its headers as an
    HTTP client reads them; chunked like nginx's content_by_lua output unless its Lua set
    a Content-Length (then the length the harness computes)."""
    headers = [[n, ows(v)] for n, v in outcome["headers"] if n.lower() not in HOP]
    if not re.search(r"content.length", " ".join(mock_lua.values()), re.I):
        headers.append(CHUNKED)
    return {"status": outcome["status"], "headers": headers, "body": outcome["body"]}


def received_request(outcome):
    up = outcome.get("upstream")
    if up is None:
        return None
    headers = [[n, ows(v)] for n, v in up["headers"] if n.lower() != MARK and n.lower() != "host"]
    # the Host it received (Envoy: the :authority the filter left), first as HTTP/1 writes it
    host = up.get("authority")
    if host is None:
        host = next((v for n, v in up["headers"] if n.lower() == "host"), None)
    if host is not None:
        headers.insert(0, ["Host", ows(host)])
    req = {"method": up["method"], "path": up["path"], "headers": headers}
    if up.get("body_hex"):
        req["body"] = {"hex": up["body_hex"]}  # byte for byte (JSON text cannot hold it)
    elif up.get("body"):
        req["body"] = up["body"]
    return req


def run_file_cases(harness, cases, batch, confirm):
    """Runs every case: batched chains, the mock-upstream stages, singles for failures."""
    results = {}

    def single(key, phases, req, props):
        try:
            return harness.run([filter_of("pre-function", phases, harness.module)], [req], props)[0]
        except RuntimeError as e:
            return f"harness: {e}"

    def stage(items, alone):
        """items: (key, phases, request, properties). Returns {key: outcome or error string}."""
        out = {}
        groups = {}
        for it in items:
            groups.setdefault(json.dumps(it[3], sort_keys=True), []).append(it)
        chunks = []
        for group in groups.values():
            if alone or batch <= 1:
                chunks += [[it] for it in group]
            else:
                chunks += [group[i:i + batch] for i in range(0, len(group), batch)]
        for chunk in chunks:
            if len(chunk) == 1:
                out[chunk[0][0]] = single(*chunk[0])
                continue
            filters = []
            reqs = []
            for i, (key, phases, req, _) in enumerate(chunk):
                filters.append(filter_of(f"case{i}", phases, harness.module, index=i))
                r = json.loads(json.dumps(req))
                r["headers"] = r["headers"] + [[MARK, str(i)]]
                reqs.append(r)
            try:
                outs = harness.run(filters, reqs, chunk[0][3])
                for i, (it, o) in enumerate(zip(chunk, outs)):
                    # only this case's filter's lines (the others are guarded and silent)
                    o["logs"] = [l for l in o.get("logs", []) if l.get("filter") == f"case{i}"]
                    out[it[0]] = o
            except RuntimeError:
                # one case's configuration was rejected: run them one by one
                for it in chunk:
                    out[it[0]] = single(*it)
        return out

    def full_run(case_list, alone):
        """Stage 1 (the test's location), 2 (mock upstream), 3 (location with the mock's answer)."""
        res = {}
        items = []
        for c in case_list:
            req = dict(c.request)
            if c.upstream is None:
                req["upstream"] = content_upstream(c)
            items.append((c.block.id, c.phases, req, c.properties))
        first = stage(items, alone)
        second_items = []
        mock_fixed = {}
        mock_lua = {}
        for c in case_list:
            o = first[c.block.id]
            if c.upstream is None or isinstance(o, str):
                res[c.block.id] = o
                continue
            received = received_request(o)
            if received is None:
                res[c.block.id] = o  # never reached the upstream
                continue
            try:
                lua, fallback = mock_case(c, received)
            except Skip as e:
                res[c.block.id] = Skip(str(e))
                continue
            if lua is None:
                mock_fixed[c.block.id] = fallback
                # `return CODE;`: nginx answers Content-Length: 0 (ngx_http_send_response)
                c.empty_length_upstream = fallback["body"] == ""
            else:
                received["upstream"] = fallback
                mock_lua[c.block.id] = lua
                second_items.append((c.block.id, lua, received, {}))
        second = stage(second_items, alone) if second_items else {}
        third_items = []
        for c in case_list:
            k = c.block.id
            if k in res:
                continue
            if k in mock_fixed:
                upstream = mock_fixed[k]
            else:
                m = second[k]
                if isinstance(m, str):
                    res[k] = "mock upstream " + m
                    continue
                upstream = as_upstream(m, mock_lua[k])
            req = dict(c.request)
            req["upstream"] = upstream
            third_items.append((k, c.phases, req, c.properties))
        third = stage(third_items, alone) if third_items else {}
        for k, o in third.items():
            m = second.get(k)
            if isinstance(o, dict) and isinstance(m, dict):
                # one nginx, one error log: the mock server's lines are in it too
                o["logs"] = o.get("logs", []) + m.get("logs", [])
        res.update(third)
        return res

    batched = full_run(cases, alone=(batch <= 1))
    failed = []
    for c in cases:
        o = batched[c.block.id]
        if isinstance(o, Skip):
            results[c.block.id] = ("skip", str(o), None)
            continue
        problems = compare(c, o)
        if problems:
            failed.append(c)
        else:
            results[c.block.id] = ("pass", "", o)
    if failed and batch > 1 and confirm:
        # a failure is confirmed alone, without the other cases' filters or the marker
        again = full_run(failed, alone=True)
    else:
        again = batched
    for c in failed:
        o = again[c.block.id]
        if isinstance(o, Skip):
            results[c.block.id] = ("skip", str(o), None)
            continue
        problems = compare(c, o)
        if not problems:
            results[c.block.id] = ("pass", "", o)
            continue
        why = not_runnable(c, problems, o)
        results[c.block.id] = ("skip", why, o) if why else ("fail", "; ".join(problems), o)
    return results


def log_lines(outcome):
    return [f"[{NGINX_LEVELS.get(l['level'], l['level'])}] {l['message']}" for l in outcome.get("logs", [])]


def short(v, n=160):
    s = v if isinstance(v, str) else repr(v)
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + "..."


def compare(case, o):
    if isinstance(o, str):
        return [o[:300]]
    e = case.expect
    problems = []
    if o.get("hung"):
        problems.append(f"stream hung: {o['hung']}")
    if o["status"] != e["status"]:
        problems.append(f"status {o['status']}, expected {e['status']}")
    body = o["body"]
    if "body" in e:
        want = e["body"]
        if isinstance(want, Regex):
            if not want.compile().search(body):
                problems.append(f"body {short(body)} does not match {short(want.pattern)}")
        elif isinstance(want, list):
            problems.append("several response bodies")
        elif body != want:
            problems.append(f"body {short(body)}, expected {short(want)}")
    if "body_like" in e and not e["body_like"].compile().search(body):
        problems.append(f"body {short(body)} does not match /{short(e['body_like'].pattern)}/")
    if "body_unlike" in e and e["body_unlike"].compile().search(body):
        problems.append(f"body {short(body)} matches /{short(e['body_unlike'].pattern)}/")
    headers = {}
    for n, v in o["headers"]:
        headers.setdefault(n.lower(), []).append(ows(v))
    for name, want in e.get("headers", []):
        got = headers.get(name.lower())
        got_s = ", ".join(got) if got else None
        if want is None or want == "":
            if got_s not in (None, ""):
                problems.append(f"header {name}: {short(got_s)}, expected absent")
        elif got_s != want:
            problems.append(f"header {name}: {short(str(got_s))}, expected {short(want)}")
    for name, want in e.get("headers_like", []):
        got = headers.get(name.lower())
        got_s = ", ".join(got) if got else ""
        if want is None:
            if got:
                problems.append(f"header {name} present, expected absent")
        elif not re.match("^(?:" + perl_to_python_regex(want) + ")$", got_s):
            problems.append(f"header {name}: {short(got_s)} does not match /^{short(want)}$/")
    lines = log_lines(o)
    text = "\n".join(lines)
    for item in e.get("error_log", []):
        if isinstance(item, Regex):
            if not item.compile().search(text):
                loose = relaxed_log_regex(item)
                hit = loose.search(text) if loose else None
                if hit:
                    line = text[text.rfind("\n", 0, hit.start()) + 1:].split("\n", 1)[0]
                    problems.append(f"no log line matching {short(item.pattern)} ({FORMAT_ONLY}: {short(line)})")
                else:
                    problems.append(f"no log line matching {short(item.pattern)}")
        elif str(item) not in text:
            problems.append(f"no log line with {short(str(item))}")
    for item in e.get("no_error_log", []):
        if isinstance(item, Regex):
            if item.compile().search(text):
                problems.append(f"log has a line matching {short(item.pattern)}")
        else:
            hit = [l for l in lines if str(item) in l]
            if hit:
                problems.append(f"log has {short(hit[0])}")
    return problems


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def area_of(test_id):
    return test_id.split("/")[0].split(" ")[0].removesuffix(".t")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kong", required=True, help="Kong work tree or bare git dir")
    ap.add_argument("--rev", default="HEAD", help="revision to read in a git dir (default HEAD)")
    ap.add_argument("--harness", default=os.path.join(ROOT, "target", "debug", "wasm-harness"))
    ap.add_argument("--module", default=os.path.join(ROOT, "target", "kong_functions.wasm"))
    ap.add_argument("--profile", default="envoy", choices=["envoy", "kong"])
    ap.add_argument("--only", action="append", default=[], help="run only files whose path contains this (repeatable)")
    ap.add_argument("--batch", type=int, default=40, help="tests per harness process (1: one each)")
    ap.add_argument("--report", help="write the Markdown report (failures, skips) here")
    ap.add_argument("--dry-run", action="store_true", help="translate only: list the skips, count the rest as passing")
    ap.add_argument("--confirm", action="store_true", help="run each test that failed batched again alone; that run is its result")
    ap.add_argument("--tests", help="run only the tests listed in this file, one id a line (e.g. `08-response/11-exit.t TEST 3`)")
    ap.add_argument("--save-json", help="also save the raw results (for --from-json)")
    ap.add_argument("--from-json", help="render the report from saved results instead of running")
    ap.add_argument("--jobs", type=int, default=1, help="files run at the same time (default 1)")
    ap.add_argument("--module-cache", default=os.path.join(ROOT, "target", "tmp", "harness-modules"),
                    help="where the harness keeps the compiled module across runs ('' : compile in every run)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every test's result")
    args = ap.parse_args()

    for path, what in ((args.harness, "harness binary (make harness)"), (args.module, "module (make wasm)")):
        if not os.path.exists(path):
            raise SystemExit(f"{path}: no {what}")
    global PROFILE, MODULE_CACHE
    PROFILE = args.profile
    MODULE_CACHE = args.module_cache
    checkout = Checkout(args.kong, args.rev)
    files = checkout.test_files()
    if args.only:
        files = [f for f in files if any(o in f for o in args.only)]
    wanted = None
    if args.tests:
        with open(args.tests) as f:
            wanted = {l.strip() for l in f if l.strip()}
        files = [f for f in files if any(w.startswith(f[len("t/01-pdk/"):] + " ") for w in wanted)]
    t0 = time.time()
    texts = {rel: checkout.read(rel) for rel in files}
    stats = []

    def one_file(rel):
        workdir = tempfile.mkdtemp(prefix="pdk-conformance-")
        harness = Harness(os.path.abspath(args.harness), os.path.abspath(args.module), args.profile, workdir, args.verbose)
        stats.append(harness)
        done = []  # (id, name, status, reason)
        cases = []
        for b in parse_blocks(rel, texts[rel]):
            if wanted is not None and b.id not in wanted:
                continue
            try:
                cases.append(translate(b))
            except Skip as e:
                done.append((b.id, b.name, "skip", str(e)))
        if cases and args.dry_run:
            done += [(c.block.id, c.block.name, "pass", "") for c in cases]
        elif cases:
            out = run_file_cases(harness, cases, args.batch, args.confirm)
            for c in cases:
                status, reason, _ = out[c.block.id]
                done.append((c.block.id, c.block.name, status, reason))
        counts = {k: sum(1 for r in done if r[2] == k) for k in ("pass", "fail", "skip")}
        lines = [f"{rel}: {counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skip"]
        if args.verbose:
            lines += [f"  {r[2]}: {r[0]}: {r[3]}" for r in sorted(done, key=lambda r: sort_key(r[0])) if r[2] != "pass"]
        print("\n".join(lines), file=sys.stderr, flush=True)
        return done

    results = []
    harness = Harness(args.harness, args.module, args.profile, None)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        results = [tuple(r) for r in saved["results"]]
        harness.runs, elapsed = saved["runs"], saved["seconds"]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for done in pool.map(one_file, files):
                results.extend(done)
        elapsed = time.time() - t0
        harness.runs = sum(h.runs for h in stats)
    if args.save_json:
        with open(args.save_json, "w") as f:
            json.dump({"results": results, "runs": harness.runs, "seconds": elapsed}, f, indent=0)
    cases = {}
    for rel in files:
        for b in parse_blocks(rel, texts[rel]):
            try:
                cases[b.id] = translate(b)
            except Skip:
                pass
    report = render(results, checkout.describe(), args, harness, elapsed, cases)
    print(report["text"])
    if args.report:
        with open(args.report, "w") as f:
            f.write(report["markdown"])
    return 0


# Kong's runloop state in ngx.ctx that some tests set by hand to stand for a matched
# route, an authenticated consumer, or timing; the filter gets these from its host.
KONG_CTX_RE = re.compile(r"ngx\.ctx\.(route|service|authenticated_\w+|KONG_\w+|balancer_data|workspace)\b\s*=")
# The part of it that stands for a decision of Kong's router or runloop, which the filter
# reads from its host instead (authenticated_* and balancer_data the filter keeps in
# ngx.ctx as Kong does, so a test setting them runs as any other).
KONG_PREMISE_RE = re.compile(r"ngx\.ctx\.(route|service|KONG_\w+|workspace)\b\s*=")
LOG_FORMAT_RE = re.compile(r"\\\[(kong|notice|alert|emerg)\\\]|\[(notice|alert|emerg)\]|\\d\+#\\d\+|nginx\\?\.conf|\[kong\]")

CLASSES = {
    "filter-missing": "filter: a PDK function, field or module it lacks",
    "filter": "filter: behaviour differs from Kong's",
}


FORMAT_ONLY = "nginx's line format only, the line is there in proxy-wasm's"


def relaxed_log_regex(item):
    """The expected log regex with what only nginx's error-log lines have made optional:
    the text between the level and the message (`[error] PID#TID: *CONN ...`, written
    `\\] .*? ` in Kong's tests), the `[kong] ` prefix, and levels proxy-wasm lacks mapped as
    the filter maps them (notice -> info, alert/emerg -> crit). None if nothing changed."""
    p = item.pattern
    q = p.replace("\\[notice\\]", "\\[(?:notice|info)\\]").replace("\\[alert\\]", "\\[(?:alert|crit)\\]") \
        .replace("\\[emerg\\]", "\\[(?:emerg|crit)\\]").replace("\\] .*? ", "\\] (?:.*? )?").replace("\\[kong\\] ", "(?:\\[kong\\] )?")
    if q == p:
        return None
    try:
        return Regex(q, item.flags).compile()
    except re.error:
        return None


def log_format_problem(problem, lua=""):
    """Whether a compare() problem is an expected log line in nginx's own format (or at a
    level proxy-wasm lacks), which no proxy-wasm host writes. `alert`/`emerg` lines are
    written at proxy-wasm's `critical` (docs/pdk.md), so a test that logs at those levels
    and expects no `[crit]` line cannot pass on any proxy-wasm host."""
    if problem.startswith("log has [crit]") and re.search(r"\b(alert|emerg)\b", lua):
        return True
    if FORMAT_ONLY in problem:
        return True
    return (problem.startswith("no log line") or problem.startswith("log has")) and bool(LOG_FORMAT_RE.search(problem))


def is_grpc_request(case):
    """Whether the test's request is a gRPC one to Envoy (`content-type: application/grpc...`,
    not `-web`): Envoy's local replies to it are trailers-only."""
    headers = (case.request or {}).get("headers", [])
    types = [v.lower() for n, v in headers if n.lower() == "content-type"]
    return bool(types) and types[0].startswith("application/grpc") and not types[0].startswith("application/grpc-web")


def not_runnable(case, problems, outcome=None):
    """The reason a failed test is one a proxy-wasm filter cannot run, or None.

    Only when nothing else failed: a test that also fails on the body, the status or a
    log line in the filter's own format stays a failure (no filter bug behind a skip)."""
    lua = " ".join(case.phases.values())
    if all(log_format_problem(p, lua) for p in problems):
        return ("not comparable: everything else passes, but the expected log line is in nginx's error-log "
                "format ([kong] namespace, pid, source position `content_by_lua(nginx.conf:N)`) or at a level "
                "proxy-wasm lacks (notice/alert/emerg): " + "; ".join(problems))
    if PROFILE == "envoy" and getattr(case, "empty_length_upstream", False) and "body_filter" in case.phases \
            and all(p.startswith("body , expected") for p in problems):
        return ("the host cannot do it: the mock upstream answers `return CODE;` (nginx: Content-Length: 0), which "
                "Envoy's HTTP/1 codec ends at the response headers (codec_impl.cc ClientConnectionImpl::cannotHaveBody): "
                "no body callback, so body_filter never runs (nginx runs it on the empty last buffer): "
                + "; ".join(problems))
    if getattr(case, "mocks_trust", False) and PROFILE == "envoy":
        return ("mocks kong.ip.is_trusted in Lua to trust the client; the filter's PDK does not call itself "
                "through the Lua table, and the filter on Envoy has no trusted_ips setting (run with --profile "
                "kong, where the trust comes from kong.configuration.trusted_ips): " + "; ".join(problems))
    if re.search(r"(?:_G\.)?\bkong\s*=\s*\{", lua) and re.search(r"\bdb\s*=\s*\{", lua):
        return ("stands in Kong's database with a mock `kong.db` in a global `kong` of its own; the filter's PDK "
                "has no database to read (docs/pdk.md: `kong.client.load_consumer` returns nil, err) and does not "
                "read the test's table: " + "; ".join(problems))
    m = KONG_PREMISE_RE.search(lua)
    if m and not any(re.search(r"^status 5\d\d|attempt to|\[error\]", p) for p in problems):
        # the filter answered, from its host: only the test's premise differs
        return (f"sets Kong's runloop state ngx.ctx.{m.group(1)} by hand (what Kong's router or runloop decided); "
                f"the filter answers from its host, so the test's premise does not hold here: " + "; ".join(problems))
    if PROFILE == "envoy" and isinstance(outcome, dict) and outcome.get("upstream") is None and is_grpc_request(case) \
            and outcome.get("status") == 200 and any(re.match(r"status 200, expected \d+", p) for p in problems) \
            and all(re.match(r"status 200, expected \d+|header Content-(Type|Length): ", p) for p in problems):
        return ("the host cannot do it: Envoy answers a local reply to a gRPC request trailers-only, HTTP status 200 "
                "with the status in grpc-status and grpc-message (source/common/http/utility.cc "
                "Utility::prepareLocalReply; docs/hosts.md), which matched: " + "; ".join(problems))
    if PROFILE == "envoy" and isinstance(outcome, dict) and outcome.get("upstream") is None \
            and all(re.match(r"header Content-(Type|Length): ", p) for p in problems):
        return ("the host cannot do it: the answer is a local reply, whose Content-Type and Content-Length "
                "Envoy sets itself (source/common/http/utility.cc Utility::prepareLocalReply: text/plain for a "
                "body without a type, none for an empty body, the body's own length): " + "; ".join(problems))
    if PROFILE == "kong" and isinstance(outcome, dict) and outcome.get("upstream") is None \
            and all(re.match(r"header Content-Length: \d+ does not match", p) for p in problems):
        return ("the host cannot do it: Kong's Wasm engine sets a local response's Content-Length from its body, "
                "whatever the filter set (checked by hand, docs/hosts.md): " + "; ".join(problems))
    if PROFILE == "kong" and isinstance(outcome, dict) and outcome.get("upstream") is None \
            and outcome.get("body", "").endswith("\n"):
        # ngx_wasm_module appends a linefeed to a local response's non-empty body
        # (ngx_http_wasm_local_response.c; kong-engine.md): compare without it
        trimmed = dict(outcome, body=outcome["body"][:-1], headers=[
            [n, str(int(v) - 1)] if n.lower() == "content-length" and v.isdigit() and int(v) > 0 else [n, v]
            for n, v in outcome["headers"]])
        if not compare(case, trimmed):
            return ("the host cannot do it: Kong's Wasm engine appends a linefeed to a local response's body "
                    "(ngx_wasm_module ngx_http_wasm_local_response.c), so body and Content-Length are one byte "
                    "longer; without it the test passes: " + "; ".join(problems))
    body = case.request.get("body") or ""
    if PROFILE == "envoy" and len(body.encode()) > 16384 and \
            re.search(r"client body buffer|request body in temp file|request body file too big|client_body_buffer_size",
                      str(case.expect.get("body", ""))):
        return ("the host cannot do it: the test expects nginx's answer for a body over `client_body_buffer_size` "
                "(16 KiB by default; nginx spills it to a temp file, which Kong's PDK reports); Envoy keeps the "
                "whole body in memory, so the filter reads it: " + "; ".join(problems))
    if PROFILE == "kong" and len(body.encode()) > 16384 and any(p.startswith("status 413") for p in problems) and not \
            re.search(r"client body buffer|request body in temp file|request body file too big|client_body_buffer_size",
                      str(case.expect.get("body", ""))):
        return ("the host cannot do it: the test reads a body over `client_body_buffer_size` (16 KiB by default), "
                "which nginx buffers to a temp file that Kong reads from disk; ngx_wasm_module gives a filter no "
                "file-buffered body (ngx_proxy_wasm_host.c ngx_proxy_wasm_get_buffer_helper; docs/hosts.md): "
                + "; ".join(problems))
    if PROFILE == "kong" and re.search(r"clear_header|set_headers", lua) and \
            all(re.match(r"body .*\{\}.*, expected .*\{nil\}", p, re.S) for p in problems):
        return ("the host cannot do it: Kong's Wasm engine cannot remove a request header (a removed entry still "
                "reaches the upstream, docs/hosts.md), so the filter clears it to an empty value, which the upstream "
                "reads as `\"\"` where Kong sends no header: " + "; ".join(problems))
    host_says = r"is not supported by this host|not available on this host|not on proxy-wasm"
    if any(re.search(host_says, p) for p in problems) and \
            all(re.search(host_says, p) or re.match(r"status 500, expected|body \{\"message\":\"An unexpected", p)
                for p in problems):
        return ("the host cannot do it: the function needs a host call or fact this host lacks (choosing the "
                "upstream target, retries or timeouts, nginx's connection counters, the client TLS handshake), "
                "so it raises as docs/pdk.md says: " + "; ".join(problems))
    if case.content and "get_source" in lua:
        return ("translation limit: the runner stands nginx's content phase in as the upstream's answer (a "
                "proxy-wasm filter has no content phase), so kong.response.get_source() says `service` where "
                "nginx's content phase makes Kong say `error`: " + "; ".join(problems))
    if PROFILE == "envoy" and all("cannot send a request body" in p or p.startswith("status 500") or p.startswith("body {\"message\"")
                                  for p in problems) and any("cannot send a request body" in p for p in problems):
        return ("the host cannot do it: Envoy sent the request headers (with their Content-Length, or none for "
                "a bodiless request) before rewrite/access ran, so no body of another length can replace it: "
                + "; ".join(problems))
    return None


def classify(case, reason, profile):
    """(class, note) for a failure: the CLASSES key and what shows it. Tests that cannot run
    on a proxy-wasm host are skips (`not_runnable`), so every failure is the filter's."""
    lua = " ".join(case.phases.values()) if case else ""
    note = ""
    m = KONG_CTX_RE.search(lua)
    if m:
        note = f"the test sets ngx.ctx.{m.group(1)} (Kong's runloop state) by hand"
    if "attempt to call a nil value" in reason or "attempt to index a nil value" in reason \
            or re.search(r"module '[^']+' not found", reason):
        mm = re.search(r"module '[^']+' not found", reason)
        what = mm.group(0) if mm else "a nil function or table where Kong's PDK has one"
        return "filter-missing", what + (f"; {note}" if note else "")
    return "filter", note


def skip_kind(reason):
    """A skip reason's kind, for the summary: its words up to the first colon or parenthesis."""
    return re.split(r": | \(|; ", reason, 1)[0].strip("` ")


def sort_key(test_id):
    f, _, n = test_id.partition(" TEST ")
    return (f, int(n) if n.isdigit() else 0)


def render(results, source, args, harness, elapsed, cases):
    areas = {}
    for tid, name, status, reason in results:
        a = areas.setdefault(area_of(tid), {"pass": 0, "fail": 0, "skip": 0})
        a[status] += 1
    tot = {k: sum(a[k] for a in areas.values()) for k in ("pass", "fail", "skip")}
    runnable = tot["pass"] + tot["fail"]
    pct = 100.0 * tot["pass"] / runnable if runnable else 0.0
    rows = [f"| {area} | {a['pass']} | {a['fail']} | {a['skip']} |" for area, a in sorted(areas.items())]
    table = "| Area | Pass | Fail | Skip |\n|---|---|---|---|\n" + "\n".join(rows) + \
        f"\n| **all** | **{tot['pass']}** | **{tot['fail']}** | **{tot['skip']}** |\n"
    summary = (f"{len(results)} tests: {tot['pass']} pass, {tot['fail']} fail, {tot['skip']} skipped; "
               f"{tot['pass']}/{runnable} runnable tests pass ({pct:.1f}%). Profile `{args.profile}`; "
               f"{harness.runs} harness runs, {elapsed:.0f} s.")
    failures = sorted([r for r in results if r[2] == "fail"], key=lambda r: sort_key(r[0]))
    classes = {r[0]: classify(cases.get(r[0]), r[3], args.profile) for r in failures}
    by_class = {}
    for k, _ in classes.values():
        by_class[k] = by_class.get(k, 0) + 1
    class_table = "| Failures by cause | Tests |\n|---|---|\n" + "\n".join(
        f"| {CLASSES[k]} (`{k}`) | {by_class[k]} |" for k in CLASSES if k in by_class) + "\n"
    skips = sorted([r for r in results if r[2] == "skip"], key=lambda r: sort_key(r[0]))
    kinds = {}
    for r in skips:
        k = skip_kind(r[3])
        kinds[k] = kinds.get(k, 0) + 1
    skip_table = "| Skips by reason | Tests |\n|---|---|\n" + "\n".join(
        f"| {md_cell(k)} | {n} |" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))) + "\n"
    text = [table, summary, "", class_table, skip_table, "Failures:"]
    text += [f"  {r[0]} ({r[1]}) [{classes[r[0]][0]}]: {r[3]}" for r in failures]
    text += ["", "Skips:"]
    text += [f"  {r[0]} ({r[1]}): {r[3]}" for r in skips]
    md = [f"# Kong's PDK tests through the filter: last run\n",
          f"Generated by `tests/pdk-conformance/run.py` (`make pdk-conformance`) from {source}, "
          f"module `{os.path.relpath(args.module, ROOT) if args.module.startswith(ROOT) else args.module}`.\n",
          table, summary + "\n", class_table,
          "Causes are assigned by `classify()` in run.py from the failure and the test's Lua; `filter` is "
          "what is left when no other rule applies. A test a proxy-wasm filter cannot run is a skip, never a "
          "failure: before running (`translate()`: nginx features, phases, modules a filter has no counterpart "
          "for), or after it ran, when everything that failed is what no proxy-wasm host can give "
          "(`not_runnable()`: a log line only nginx's own format has, Kong's runloop state set by hand, a host "
          "call proxy-wasm lacks); those skips keep what failed in their reason.\n",
          skip_table,
          "## Failures\n", "| Test | Name | Cause | Why |", "|---|---|---|---|"]
    md += [f"| {r[0]} | {md_cell(r[1])} | `{classes[r[0]][0]}`{': ' + md_cell(classes[r[0]][1]) if classes[r[0]][1] else ''} | {md_cell(r[3])} |" for r in failures]
    md += ["", "## Skips\n", "| Test | Name | Why |", "|---|---|---|"]
    md += [f"| {r[0]} | {md_cell(r[1])} | {md_cell(r[3])} |" for r in skips]
    return {"text": "\n".join(text), "markdown": "\n".join(md) + "\n"}


def md_cell(s):
    return s.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    sys.exit(main())
