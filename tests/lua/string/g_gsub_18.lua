-- string.gsub with string, table and function replacements (18)
print(pcall(string.gsub, 'abc', '(b)', '%2'))
print(pcall(string.gsub, 'abc', 'b'))
