-- LuaJIT's bit module, 32-bit semantics (2)
print(bit.tohex(0x12345678, 2), bit.tohex(1, 8), bit.tohex(-1, -8))
print(bit.bnot(0), bit.bnot(-1), bit.bnot(0xff))
