-- string.format conversions, flags, width and precision (30)
print(('%s-%s'):format('a', 'b'), ('%03d'):format(7))
print(string.format('%s', setmetatable({}, {__tostring = function() return 'T' end})) ~= nil)
