-- string.gsub with string, table and function replacements (12)
print(string.gsub("x", "x", "%0%0"))
print(string.gsub("", "", "e"))
