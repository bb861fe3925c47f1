-- Arithmetic converts numeric strings with spaces around them (Lua 5.1 luaO_str2d,
-- LuaJIT lj_strscan_scan skip whitespace before and after the numeral).
print(' 5 ' * 2, '\t7\n' + 1, ' 0x10 ' + 0, ' 1e2' - 1, -' 3 ', ' 2 ' ^ 2, ' 9 ' % 4)
print((pcall(function() return ' 5 x' * 2 end)))
print((pcall(function() return '' + 1 end)))
print((pcall(function() return '   ' + 1 end)))
