-- math library results print as LuaJIT's (15)
print(math.fmod(1, 0) ~= math.fmod(1, 0))
print(type(math.random()), math.random() < 1, math.random(10) <= 10, math.random(5, 6) >= 5)
