-- string.gsub with string, table and function replacements (8)
print(string.gsub("$name is $age", "%$(%w+)", "[%1]"))
print(string.gsub("abc", "^a", "A"))
