-- trimming and collapsing whitespace idioms (input 3)
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function collapse(s) return (s:gsub("%s+", " ")) end
print('[' .. trim("none") .. ']', '[' .. collapse("none") .. ']')
