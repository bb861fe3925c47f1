-- string.gsub with string, table and function replacements (13)
print(string.gsub('hello world', '%w+', function(w) return w:upper() end))
print(string.gsub('hello world', '%w+', function(w) if w == 'hello' then return nil end return 'X' end))
