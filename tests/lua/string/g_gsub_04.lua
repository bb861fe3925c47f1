-- string.gsub with string, table and function replacements (4)
print(string.gsub("abc", "b", "%1"))
print(string.gsub("a.b.c", "%.", "/"))
