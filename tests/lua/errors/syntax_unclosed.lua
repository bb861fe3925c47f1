-- syntax errors: a construct left open on an earlier line says what it closes, as
-- LuaJIT's lex_match ("'end' expected (to close 'if' at line 1) near '<eof>'")
local sources = {
  "if x then",
  "repeat",
  "x = (1",
  "if x then\n\n",
  "while x do\nprint(1)\n",
  "do\n\n",
  "repeat\nx()\n",
  "function f()\n\n",
  "f(1,\n2",
  "x = (1\n+2",
  "if x\nthen\nelse\n",
  "f(1,\n2 3)",
  "local t = {1,\n2 3}",
  "if x then\ny()\nelseif z then\n",
  "for i = 1, 2 do\n",
  "for k, v in pairs(t) do\nprint(k)\n",
  "local function f()\n  if x then\n    return 1\nend",
  "local f = function(a)\n  return a\n",
}
for _, s in ipairs(sources) do
  print(loadstring(s))
end
