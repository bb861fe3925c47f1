-- string.gsub with string, table and function replacements (20)
print(string.gsub('count: 3', '%d', function(d) return d * 2 end))
