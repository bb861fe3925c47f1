-- tonumber with and without a base (21)
print(tonumber("8", 8))
print(pcall(tonumber, '1', 1))
