-- string.gsub with string, table and function replacements (3)
print(string.gsub("hello", "", "-"))
print(string.gsub("abc", "%w", "%%"))
