-- string.gsub with string, table and function replacements (2)
print(string.gsub("hello world", "%w+", "<%0>"))
print(string.gsub("hello world", "(%w+) (%w+)", "%2 %1"))
