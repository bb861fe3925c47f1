-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (5)
print(string.sub('hello world', -100, 2))
print(string.sub('hello world', 3, 3))
