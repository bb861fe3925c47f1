-- string.gsub with string, table and function replacements (7)
print(string.gsub("aaa", "a*", "-"))
print(string.gsub("hello", "l+", "L"))
