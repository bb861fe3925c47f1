-- every character class and its complement (8)
do local s = {} for m in string.gmatch("MiXeD_case-42.5e3", '%u+') do s[#s + 1] = m end print('%u', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("0xDEADbeef g,h;i", '%U+') do s[#s + 1] = m end print('%U', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
