-- string.gsub with string, table and function replacements (5)
print(string.gsub("  trim me  ", "^%s+", ""))
print(string.gsub("  trim me  ", "%s+$", ""))
