-- string.match returns captures or the whole match (5)
print(string.match("hello", ""))
print(string.match("hello", "", 10))
