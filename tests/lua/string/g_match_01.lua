-- string.match returns captures or the whole match (1)
print(string.match("hello world", "o"))
print(string.match("hello world", "o", 6))
