-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (17)
print(string.rep('ab', 3), string.rep('x', 0), string.rep('x', -2), string.rep('', 5))
print(string.rep('ab', 3, ','), string.rep('ab', 1, ','), string.rep('ab', 2, ''))
