-- string.match returns captures or the whole match (3)
print(string.match("hello world", "^h"))
print(string.match("hello world", "^w"))
