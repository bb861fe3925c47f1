-- pcall(error) in an endless loop
-- expect all: 500 instruction limit exceeded
while true do pcall(error, "again") end
