-- string.match returns captures or the whole match (20)
print(string.match("UPPER lower", "%l+"))
print(string.match("punct!?", "%p+"))
