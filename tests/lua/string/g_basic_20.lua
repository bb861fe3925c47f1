-- string.sub, byte, char, rep, len, upper, lower, reverse and method calls (20)
print(pcall(string.upper), pcall(string.len, nil))
print(string.upper(123), string.len(12.5), string.rep(1, 3))
