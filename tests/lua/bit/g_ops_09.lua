-- LuaJIT's bit module, 32-bit semantics (9)
print(bit.band('0xff', 3))
print(bit.bor(bit.lshift(1, 10), bit.lshift(1, 20)) == 1049600)
