-- trimming and collapsing whitespace idioms (input 1)
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function collapse(s) return (s:gsub("%s+", " ")) end
print('[' .. trim("  padded  ") .. ']', '[' .. collapse("  padded  ") .. ']')
