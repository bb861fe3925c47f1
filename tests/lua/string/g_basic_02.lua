-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (2)
print(string.sub('hello world', -3))
print(string.sub('hello world', -3, -2))
