-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (18)
print(pcall(string.rep), pcall(string.rep, 'x'))
print(string.len(''), string.len('abc'), string.len('a\0b'), #'hello')
