-- base library: types, errors, metatables, varargs (14)
print(_G == _G._G, _G.print == print, type(_G))
x_global = 5 print(_G.x_global)
