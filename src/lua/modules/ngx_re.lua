-- ngx.re (lua-resty-core's lib/ngx/re.lua): `split` and `opt` over the ngx.re global's
-- regex engine. `split(subject, regex, opts?, ctx?, max?, res?)` answers the pieces
-- between matches (the first capture of each match in between, as the original), drops
-- trailing empty pieces unless `max` is given, and answers nil, err for a bad regex.
local find, match = ngx.re.find, ngx.re.match
local sub, tostring, type, error = string.sub, tostring, type, error

-- The next match at or after the 1-based `pos`: from (1-based), to (the 1-based
-- position after the match), the first capture, the next search position.
local function next_match(subj, regex, opts, pos)
  local from, last, err = find(subj, regex, opts, { pos = pos })
  if err then return nil, nil, nil, nil, err end
  if not from then return nil end
  local capture
  local m = match(subj, regex, opts, { pos = from })
  if m and type(m[1]) == "string" then capture = m[1] end
  local to = last + 1
  return from, to, capture, from == to and to + 1 or to
end

local function split(subj, regex, opts, ctx, max, res)
  subj = tostring(subj)
  max = max or 0
  if res == nil then
    res = {}
  elseif type(res) ~= "table" then
    error("res is not a table", 2)
  end
  local pos = (type(ctx) == "table" and ctx.pos) or 1
  local len = #subj
  if pos > len then
    res[1] = nil
    return res
  end
  -- A bad regex is nil, err before anything is split.
  local _, _, err = find("", regex, opts)
  if err then return nil, err end
  local sub_idx, res_idx, count, last_empty = pos, 0, 1, nil
  local search = pos
  while max <= 0 or count < max do
    local from, to, capture, following, failure = next_match(subj, regex, opts, search)
    if failure then return nil, failure end
    if not from or from > len + 1 then break end
    search = following
    if last_empty then sub_idx = last_empty end
    if from == to then last_empty = from end
    if from > sub_idx or not last_empty then
      count = count + 1
      res_idx = res_idx + 1
      res[res_idx] = sub(subj, sub_idx, from - 1)
      if capture then
        res_idx = res_idx + 1
        res[res_idx] = capture
      end
      sub_idx = to
      if sub_idx > len then break end
    end
  end
  if max <= 0 and sub_idx > len then
    for i = res_idx, 1, -1 do
      if res[i] ~= "" then
        res_idx = i
        break
      end
      res[i] = nil
      res_idx = i - 1
    end
  else
    res_idx = res_idx + 1
    res[res_idx] = sub(subj, sub_idx)
  end
  res[res_idx + 1] = nil
  return res
end

-- Only "jit_stack_size" is an option; there is no PCRE JIT stack here, so setting it
-- has no effect.
local function opt(option, value)
  if option == "jit_stack_size" then
    return
  end
  error("unrecognized option name", 2)
end

return { split = split, opt = opt }
