-- tonumber with and without a base (18)
print(tonumber("102", 2))
print(tonumber("-ff", 16))
