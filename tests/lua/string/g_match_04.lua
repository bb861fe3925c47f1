-- string.match returns captures or the whole match (4)
print(string.match("hello world", "d$"))
print(string.match("hello world", "x"))
