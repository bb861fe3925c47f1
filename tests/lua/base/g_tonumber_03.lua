-- tonumber with and without a base (3)
print(tonumber(" 10 "))
print(tonumber("10a"))
