-- string.gsub with string, table and function replacements (17)
print(string.gsub('abc', '', '/'))
print(string.gsub('hello', '(l)(l)', '%2%1'))
