-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (3)
print(string.sub('hello world', 0))
print(string.sub('hello world', 0, 0))
