-- tonumber with and without a base (5)
print(tonumber("-7"))
print(tonumber("+7"))
