-- tonumber with and without a base (8)
print(tonumber("1e+2"))
print(tonumber("inf"))
