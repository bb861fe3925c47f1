-- string.gsub with string, table and function replacements (9)
print(string.gsub("abc", "c$", "C"))
print(string.gsub("a,b;c", "[,;]", " "))
