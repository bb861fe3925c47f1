-- string.match returns captures or the whole match (22)
print(string.match("a1 b2", "%a%d", -2))
print(string.match("hello", "l", -100))
