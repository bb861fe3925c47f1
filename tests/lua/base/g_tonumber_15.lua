-- tonumber with and without a base (15)
print(tonumber("9007199254740993"))
print(tonumber("ff", 16))
