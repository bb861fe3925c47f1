-- LuaJIT's bit module, 32-bit semantics (3)
print(bit.band(0xff, 0x0f), bit.band(-1, 0x7fffffff), bit.band(1, 2, 3))
print(bit.bor(1, 2), bit.bor(1, 2, 4, 8), bit.bor(0x80000000, 1))
