-- string.match returns captures or the whole match (2)
print(string.match("hello world", "o", -3))
print(string.match("hello world", "l+"))
