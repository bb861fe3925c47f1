-- string.gsub with string, table and function replacements (1)
print(string.gsub("hello world", "o", "0"))
print(string.gsub("hello world", "o", "0", 1))
