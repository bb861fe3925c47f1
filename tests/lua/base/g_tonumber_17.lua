-- tonumber with and without a base (17)
print(tonumber("777", 8))
print(tonumber("101", 2))
