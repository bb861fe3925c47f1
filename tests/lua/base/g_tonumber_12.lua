-- tonumber with and without a base (12)
print(tonumber("1 2"))
print(tonumber("- 1"))
