-- string.gsub with string, table and function replacements (16)
print(pcall(string.gsub, 'abc', '%w', function() return {} end))
print(string.gsub('one two', '(%w+)', '%1-%1', 1))
