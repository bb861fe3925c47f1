-- tonumber with and without a base (1)
print(tonumber("10"))
print(tonumber("0x10"))
