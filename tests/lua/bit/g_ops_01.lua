-- LuaJIT's bit module, 32-bit semantics (1)
print(bit.tobit(0xffffffff), bit.tobit(2^32 + 5), bit.tobit(-1), bit.tobit(2^31))
print(bit.tohex(255), bit.tohex(-1), bit.tohex(255, 4), bit.tohex(255, -4))
