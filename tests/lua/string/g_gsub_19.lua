-- string.gsub with string, table and function replacements (19)
print(string.gsub('a b c', ' ', '', 5))
print(string.gsub(12345, 3, 'x'))
