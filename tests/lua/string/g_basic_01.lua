-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (1)
print(string.sub('hello world', 1, 3))
print(string.sub('hello world', 2))
