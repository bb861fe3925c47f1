-- LuaJIT's bit module, 32-bit semantics (10)
print(bit.tobit(4294967296 * 3 + 7))
print(bit.bxor(bit.bnot(5), -6))
