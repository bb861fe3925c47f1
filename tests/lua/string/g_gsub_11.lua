-- string.gsub with string, table and function replacements (11)
print(string.gsub("100%", "%%", " percent"))
print(string.gsub("tab\9sep", "\9", "\\t"))
