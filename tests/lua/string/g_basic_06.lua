-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (6)
print(string.sub('hello world', 10, 20))
print(string.sub('hello world', -1, -1))
