-- tonumber with and without a base (13)
print(tonumber("0b101"))
print(tonumber("\t42\n"))
