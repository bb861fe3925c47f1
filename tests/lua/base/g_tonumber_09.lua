-- tonumber with and without a base (9)
print(tonumber("nan" ~= "nan"))
print(tonumber("0x1p4"))
