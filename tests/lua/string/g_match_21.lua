-- string.match returns captures or the whole match (21)
print(string.match("hex 0xFF", "%x+", 5))
print(string.match("ctl\1x", "%c"))
