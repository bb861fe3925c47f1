"""Writes each test's Lua program (NAME.lua) and expected log lines (NAME.expected) of
src/lua/modules/jwt_tests.rs to a directory, for run.sh."""
import os, re, sys

src, out = sys.argv[1], sys.argv[2]
s = open(src).read()
data = os.path.join(os.path.dirname(src), "testdata")
consts = {m.group(1): m.group(2) for m in re.finditer(r'const (\w+): &str = "(.*?)";', s, re.S)}
consts["a2"] = open(os.path.join(data, "rfc7515_a2.jwk.json")).read().strip()
consts["cert"] = open(os.path.join(data, "cert.pem")).read()
tests = re.split(r"\n#\[test\]\nfn (\w+)", s)
for i in range(1, len(tests), 2):
    name, body = tests[i], tests[i + 1]
    k = body.index("logs(")
    fmt = body[k:k + 20].startswith("logs(&format!(")
    r, q = body.find('r#"', k), body.find('"', k)
    if r != -1 and r <= q:
        start = r + 3
        code = body[start:body.index('"#', start)]
    else:
        start = e = q + 1
        while True:
            e = body.index('"', e)
            if body[e - 1] != "\\":
                break
            e += 1
        code = body[start:e].replace('\\"', '"').replace("\\n", "\n")
    if fmt:
        code = re.sub(r"(?<!\{)\{([A-Za-z0-9_]+)\}(?!\})", lambda m: consts.get(m.group(1), m.group(0)), code)
        code = code.replace("{{", "{").replace("}}", "}")
    open(os.path.join(out, name + ".lua"), "w").write(code)
    exp = re.search(r"assert_eq!\(\s*out,\s*\[(.*?)\n\s*\]\s*\);", body, re.S)
    if exp:
        lines = [re.match(r'"((?:[^"\\]|\\.)*)"', l.strip()).group(1).replace('\\"', '"')
                 for l in exp.group(1).split("\n") if l.strip().startswith('"')]
    else:
        lines = open(os.path.join(data, "cert.expected")).read().splitlines()
    open(os.path.join(out, name + ".expected"), "w").write("\n".join(lines) + "\n")
