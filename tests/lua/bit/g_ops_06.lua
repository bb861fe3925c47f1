-- LuaJIT's bit module, 32-bit semantics (6)
print(bit.rol(1, 1), bit.rol(0x80000000, 1), bit.rol(1, 33))
print(bit.ror(1, 1), bit.ror(2, 1), bit.ror(1, 32))
