-- pl.stringx, as Penlight 1.14's lua/pl/stringx.lua defines its functions: Python-style
-- string helpers. Lists come back as plain tables (no pl.List methods); argument checks
-- raise Penlight's "argument N expected a 'string', got a 'nil'".
local find, sub, gsub, rep, reverse = string.find, string.sub, string.gsub, string.rep, string.reverse
local concat, insert, remove = table.concat, table.insert, table.remove
local type, ipairs, setmetatable = type, ipairs, setmetatable
local ceil, max, huge = math.ceil, math.max, math.huge

local function assert_arg(n, val, tp, verify, msg)
  if type(val) ~= tp then
    error(("argument %d expected a '%s', got a '%s'"):format(n, tp, type(val)), 3)
  end
  if verify and not verify(val) then
    error(("argument %d: '%s' %s"):format(n, val, msg), 3)
  end
  return val
end

local function assert_string(n, s)
  assert_arg(n, s, "string")
end

-- Penlight's utils.escape: pattern magic characters escaped.
local function escape(s)
  return (gsub(s, "[%-%.%+%[%]%(%)%$%^%%%?%*]", "%%%1"))
end

-- Penlight's utils.split.
local function usplit(s, re, plain, n)
  local i1, ls = 1, {}
  if not re then re = "%s+" end
  if re == "" then return { s } end
  while true do
    local i2, i3 = find(s, re, i1, plain)
    if not i2 then
      local last = sub(s, i1)
      if last ~= "" then insert(ls, last) end
      if #ls == 1 and ls[1] == "" then
        return {}
      end
      return ls
    end
    insert(ls, sub(s, i1, i2 - 1))
    if n and #ls == n then
      ls[#ls] = sub(s, i1)
      return ls
    end
    i1 = i3 + 1
  end
end

local stringx = {}

local function class_check(pattern)
  return function(s)
    assert_string(1, s)
    return find(s, pattern) == 1
  end
end

stringx.isalpha = class_check("^%a+$")
stringx.isdigit = class_check("^%d+$")
stringx.isalnum = class_check("^%w+$")
stringx.isspace = class_check("^%s+$")
stringx.islower = class_check("^[%l%s]+$")
stringx.isupper = class_check("^[%u%s]+$")

local function raw_startswith(s, prefix)
  return find(s, prefix, 1, true) == 1
end

local function raw_endswith(s, suffix)
  return #s >= #suffix and find(s, suffix, #s - #suffix + 1, true) and true or false
end

local function test_affixes(s, affixes, fn)
  if type(affixes) == "string" then
    return fn(s, affixes)
  elseif type(affixes) == "table" then
    for _, affix in ipairs(affixes) do
      if fn(s, affix) then return true end
    end
    return false
  end
  error(("argument #2 expected a 'string' or a 'table', got a '%s'"):format(type(affixes)))
end

function stringx.startswith(s, prefix)
  assert_string(1, s)
  return test_affixes(s, prefix, raw_startswith)
end

function stringx.endswith(s, suffix)
  assert_string(1, s)
  return test_affixes(s, suffix, raw_endswith)
end

function stringx.join(s, seq)
  assert_string(1, s)
  return concat(seq, s)
end

function stringx.splitlines(s, keep_ends)
  assert_string(1, s)
  local res, pos = {}, 1
  while true do
    local line_end_pos = find(s, "[\r\n]", pos)
    if not line_end_pos then break end
    local line_end = sub(s, line_end_pos, line_end_pos)
    if line_end == "\r" and sub(s, line_end_pos + 1, line_end_pos + 1) == "\n" then
      line_end = "\r\n"
    end
    local line = sub(s, pos, line_end_pos - 1)
    if keep_ends then line = line .. line_end end
    insert(res, line)
    pos = line_end_pos + #line_end
  end
  if pos <= #s then insert(res, sub(s, pos)) end
  return res
end

local function strip(s, left, right, chrs)
  if not chrs then
    chrs = "%s"
  else
    chrs = "[" .. escape(chrs) .. "]"
  end
  local f, t = 1, nil
  if left then
    local i1, i2 = find(s, "^" .. chrs .. "*")
    if i2 >= i1 then f = i2 + 1 end
  end
  if right then
    local rs = reverse(s)
    local i1, i2 = find(rs, "^" .. chrs .. "*")
    if i2 >= i1 then t = -i2 - 1 end
  end
  return sub(s, f, t)
end

function stringx.lstrip(s, chrs)
  assert_string(1, s)
  return strip(s, true, false, chrs)
end

function stringx.rstrip(s, chrs)
  assert_string(1, s)
  return strip(s, false, true, chrs)
end

function stringx.strip(s, chrs)
  assert_string(1, s)
  return strip(s, true, true, chrs)
end

-- Split on plain `re` (whitespace runs when absent, after a left strip), at most `n`
-- parts; a trailing delimiter gives a trailing "".
function stringx.split(s, re, n)
  assert_string(1, s)
  local plain = true
  if not re then
    s = strip(s, true, false)
    plain = false
  end
  local res = usplit(s, re, plain, n)
  if re and re ~= "" and find(s, re, -#re, true) and (n or huge) > #res then
    res[#res + 1] = ""
  end
  return res
end

function stringx.splitv(s, re)
  assert_string(1, s)
  return unpack(usplit(s, re))
end

function stringx.expandtabs(s, tabsize)
  assert_string(1, s)
  tabsize = tabsize or 8
  return (gsub(s, "([^\t\r\n]*)\t", function(before)
    if tabsize == 0 then return before end
    return before .. rep(" ", tabsize - #before % tabsize)
  end))
end

local function find_all(s, needle, first, last, allow_overlap)
  first = first or 1
  last = last or #s
  if needle == "" then return last + 1, last - first + 1 end
  local i1, i2 = find(s, needle, first, true)
  local res, k = nil, 0
  while i1 do
    if last and i2 > last then break end
    res = i1
    k = k + 1
    if allow_overlap then
      i1, i2 = find(s, needle, i1 + 1, true)
    else
      i1, i2 = find(s, needle, i2 + 1, true)
    end
  end
  return res, k
end

function stringx.lfind(s, needle, first, last)
  assert_string(1, s)
  assert_string(2, needle)
  local i1, i2 = find(s, needle, first, true)
  if i1 and (not last or i2 <= last) then
    return i1
  end
  return nil
end

function stringx.rfind(s, needle, first, last)
  assert_string(1, s)
  assert_string(2, needle)
  return (find_all(s, needle, first, last, true))
end

function stringx.replace(s, old, new, n)
  assert_string(1, s)
  assert_string(2, old)
  assert_string(3, new)
  return (gsub(s, escape(old), (gsub(new, "%%", "%%%%")), n))
end

function stringx.count(s, needle, allow_overlap)
  assert_string(1, s)
  local _, k = find_all(s, needle, 1, false, allow_overlap)
  return k
end

local function just(s, w, ch, left, right)
  local n = #s
  if w <= n then return s end
  ch = ch or " "
  if left and right then
    local rn = ceil((w - n) / 2)
    return rep(ch, w - n - rn) .. s .. rep(ch, rn)
  elseif right then
    return rep(ch, w - n) .. s
  end
  return s .. rep(ch, w - n)
end

function stringx.ljust(s, w, ch)
  assert_string(1, s)
  assert_arg(2, w, "number")
  return just(s, w, ch, true, false)
end

function stringx.rjust(s, w, ch)
  assert_string(1, s)
  assert_arg(2, w, "number")
  return just(s, w, ch, false, true)
end

function stringx.center(s, w, ch)
  assert_string(1, s)
  assert_arg(2, w, "number")
  return just(s, w, ch, true, true)
end

local function non_empty(s)
  return #s > 0
end

local function partition(p, delim, fn)
  local i1, i2 = fn(p, delim)
  if not i1 or i1 == -1 then
    return p, "", ""
  end
  if not i2 then i2 = i1 end
  return sub(p, 1, i1 - 1), sub(p, i1, i2), sub(p, i2 + 1)
end

function stringx.partition(s, ch)
  assert_string(1, s)
  assert_arg(2, ch, "string", non_empty, "must be a non-empty string")
  return partition(s, ch, stringx.lfind)
end

function stringx.rpartition(s, ch)
  assert_string(1, s)
  assert_arg(2, ch, "string", non_empty, "must be a non-empty string")
  local a, b, c = partition(s, ch, stringx.rfind)
  if a == s then
    return c, b, a
  end
  return a, b, c
end

function stringx.at(s, idx)
  assert_string(1, s)
  assert_arg(2, idx, "number")
  return sub(s, idx, idx)
end

function stringx.indent(s, n, ch)
  assert_arg(1, s, "string")
  assert_arg(2, n, "number")
  local lines = usplit(s, "\n")
  local prefix = rep(ch or " ", n)
  for i, line in ipairs(lines) do
    lines[i] = prefix .. line
  end
  return concat(lines, "\n") .. "\n"
end

function stringx.dedent(s)
  assert_arg(1, s, "string")
  local lst = usplit(s, "\n")
  if #lst > 0 then
    local ind_size = huge
    for _, line in ipairs(lst) do
      local i1, i2 = find(line, "^%s*[^%s]")
      if i1 and i2 < ind_size then ind_size = i2 end
    end
    for i, line in ipairs(lst) do
      lst[i] = sub(line, ind_size, -1)
    end
  end
  return concat(lst, "\n") .. "\n"
end

function stringx.lines(s)
  assert_string(1, s)
  if not find(s, "\n$") then s = s .. "\n" end
  return string.gmatch(s, "([^\n]*)\n")
end

function stringx.title(s)
  assert_string(1, s)
  return (gsub(s, "(%S)(%S*)", function(f, r)
    return string.upper(f) .. string.lower(r)
  end))
end

stringx.capitalize = stringx.title

function stringx.shorten(s, w, tail)
  assert_string(1, s)
  local ellipsis = "..."
  if #s > w then
    if w < 3 then return sub(ellipsis, 1, w) end
    if tail then
      return ellipsis .. sub(s, #s - w + 4)
    end
    return sub(s, 1, w - 3) .. ellipsis
  end
  return s
end

-- ${name} and $name replaced from a table (or a function).
local function substitute(s, tbl, safe)
  local subst
  if type(tbl) == "function" then
    subst = tbl
  else
    subst = function(f)
      local v = tbl[f]
      if not v then
        if safe then return f end
        error("not present in table " .. f)
      end
      return v
    end
  end
  local res = gsub(s, "%${([%w_]+)}", subst)
  return (gsub(res, "%$([%w_]+)", subst))
end

local Template = {}
Template.__index = Template

function Template.new(tmpl)
  assert_arg(1, tmpl, "string")
  return setmetatable({ tmpl = tmpl }, Template)
end

function Template:substitute(tbl)
  assert_arg(1, tbl, "table")
  return substitute(self.tmpl, tbl, false)
end

function Template:safe_substitute(tbl)
  assert_arg(1, tbl, "table")
  return substitute(self.tmpl, tbl, true)
end

setmetatable(Template, { __call = function(_, tmpl) return Template.new(tmpl) end })
stringx.Template = Template

return stringx
