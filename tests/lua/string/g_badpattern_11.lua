-- malformed patterns raise Lua's errors (11)
print(string.find(('a'):rep(30), '(a*).-b'))
