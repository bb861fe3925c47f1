-- tonumber with and without a base (4)
print(tonumber(""))
print(tonumber(" "))
