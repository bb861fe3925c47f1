-- while true do end
-- expect all: 500 instruction limit exceeded
while true do end
