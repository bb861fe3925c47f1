-- tonumber with and without a base (7)
print(tonumber("0x"))
print(tonumber("1e"))
