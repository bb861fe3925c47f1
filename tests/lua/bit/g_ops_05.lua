-- LuaJIT's bit module, 32-bit semantics (5)
print(bit.rshift(256, 4), bit.rshift(-1, 28), bit.rshift(-1, 0))
print(bit.arshift(-256, 4), bit.arshift(256, 4), bit.arshift(-1, 31))
