-- string.gsub with string, table and function replacements (6)
print(string.gsub("x x x", "x", "y", 2))
print(string.gsub("x x x", "x", "y", 0))
