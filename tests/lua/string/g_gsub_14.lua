-- string.gsub with string, table and function replacements (14)
print(string.gsub('$a $b $c', '%$(%w)', {a = 1, b = 'two'}))
print(string.gsub('a-b', '(%w)-(%w)', function(x, y) return y .. '+' .. x end))
