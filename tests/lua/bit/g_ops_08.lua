-- LuaJIT's bit module, 32-bit semantics (8)
print(pcall(bit.band), pcall(bit.band, 'x'))
print(bit.tohex(bit.lshift(0xdead, 16) + 0xbeef))
