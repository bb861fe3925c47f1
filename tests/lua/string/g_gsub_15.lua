-- string.gsub with string, table and function replacements (15)
print(string.gsub('abc', '%w', function() return false end))
print(pcall(string.gsub, 'x y', '%w', {x = true}))
