-- every character class and its complement (4)
do local s = {} for m in string.gmatch("MiXeD_case-42.5e3", '%g+') do s[#s + 1] = m end print('%g', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
do local s = {} for m in string.gmatch("0xDEADbeef g,h;i", '%G+') do s[#s + 1] = m end print('%G', #s, (table.concat(s, '|'):gsub('%c', '?'))) end
