-- LuaJIT's bit module, 32-bit semantics (4)
print(bit.bxor(5, 3), bit.bxor(0xff, 0x0f, 0xf0), bit.bxor(-1, 1))
print(bit.lshift(1, 4), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 35))
