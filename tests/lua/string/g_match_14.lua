-- string.match returns captures or the whole match (14)
print(string.match("aaa", "a-"))
print(string.match("aaa", "a-$"))
