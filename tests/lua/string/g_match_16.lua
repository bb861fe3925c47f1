-- string.match returns captures or the whole match (16)
print(string.match("123abc", "%d+"))
print(string.match("abc123", "[^%a]+"))
