-- kong.tools.uri, as Kong 3.10's kong/tools/uri.lua: `normalize` (percent-decodes the
-- triplets of unreserved and other characters, keeps reserved ones upper-cased, removes
-- dot segments, optionally merges slashes) and `escape` (percent-encodes what is unsafe
-- in a header or path, keeping reserved characters).
local byte, char, sub, find, upper, format, gsub = string.byte, string.char, string.sub, string.find, string.upper, string.format, string.gsub
local concat, tonumber = table.concat, tonumber

local RESERVED = {}
for c in ("!*'();:@&=+$,/?%#[]"):gmatch(".") do RESERVED[byte(c)] = true end

local function decode_triplet(hex)
  local num = tonumber(hex, 16)
  if not RESERVED[num] then
    return char(num)
  end
  return "%" .. upper(hex)
end

local ESCAPE_PATTERN = "[^!#$&'()*+,/:;=?@%[%]A-Za-z0-9%-_.~%%]"

local function percent_escape(c)
  return format("%%%02X", byte(c))
end

local function escape(uri)
  if find(uri, ESCAPE_PATTERN) then
    return (gsub(uri, ESCAPE_PATTERN, percent_escape))
  end
  return uri
end

local DOT, SLASH = byte("."), byte("/")

local function normalize(uri, merge_slashes)
  if uri == "" or uri == "/" then
    return uri
  end
  if find(uri, "%", 1, true) then
    uri = gsub(uri, "%%(%x%x)", decode_triplet)
  end
  if not find(uri, ".", 1, true) and (not merge_slashes or not find(uri, "//", 1, true)) then
    return uri
  end
  local output, n = {}, 0
  while #uri > 0 do
    local first, second, third, fourth = byte(uri, 1, 4)
    if uri == "/." then
      uri = "/"
    elseif uri == "/.." then
      uri = "/"
      if n > 0 then n = n - 1 end
    elseif uri == "." or uri == ".." then
      uri = ""
    elseif first == DOT and second == DOT and third == SLASH then
      uri = sub(uri, 4)
    elseif first == DOT and second == SLASH then
      uri = sub(uri, 3)
    elseif first == SLASH and second == DOT and third == SLASH then
      uri = sub(uri, 3)
    elseif first == SLASH and second == DOT and third == DOT and fourth == SLASH then
      uri = sub(uri, 4)
      if n > 0 then n = n - 1 end
    elseif merge_slashes and first == SLASH and second == SLASH then
      uri = sub(uri, 2)
    else
      local i = find(uri, "/", 2, true)
      n = n + 1
      if i then
        output[n] = sub(uri, 1, i - 1)
        uri = sub(uri, i)
      else
        output[n] = uri
        uri = ""
      end
    end
  end
  if n == 0 then
    return ""
  end
  return concat(output, "", 1, n)
end

return { escape = escape, normalize = normalize }
