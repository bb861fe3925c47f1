-- string.gsub with string, table and function replacements (10)
print(string.gsub("CamelCaseString", "(%u)", " %1"))
print(string.gsub("snake_case_here", "_(%l)", "%1"))
