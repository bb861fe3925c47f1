-- tonumber with and without a base (22)
print(pcall(tonumber, '1', 37))
print(pcall(tonumber))
