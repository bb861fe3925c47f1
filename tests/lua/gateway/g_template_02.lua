-- substitute ${name} placeholders from a table (input 2)
local function render(tpl, vars)
  return (tpl:gsub("%${([%w_]+)}", function(k) return vars[k] ~= nil and tostring(vars[k]) or "" end))
end
print(render("${missing}|${flag}", {user = 'ada', n = 3, flag = false}))
