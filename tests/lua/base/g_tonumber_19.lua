-- tonumber with and without a base (19)
print(tonumber(" 11 ", 2))
print(tonumber("", 10))
