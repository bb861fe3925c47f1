-- trimming and collapsing whitespace idioms (input 2)
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function collapse(s) return (s:gsub("%s+", " ")) end
print('[' .. trim("\tmixed \n space\t") .. ']', '[' .. collapse("\tmixed \n space\t") .. ']')
