-- LuaJIT's bit module, 32-bit semantics (7)
print(bit.bswap(0x12345678), bit.bswap(1), bit.bswap(-1))
print(bit.band(2^33 + 3, 7), bit.bor(1.4, 0), bit.tobit(1.5), bit.tobit(2.5))
