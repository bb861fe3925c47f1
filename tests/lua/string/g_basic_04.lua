-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (4)
print(string.sub('hello world', 5, 2))
print(string.sub('hello world', 1, 100))
