-- string.match returns captures or the whole match (6)
print(string.match("hello", "", 6))
print(string.match("", ""))
