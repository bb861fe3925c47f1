-- peak / off-peak rate limits from a fixed UTC time (input 1)
local function limit_for(epoch)
  local t = os.date("!*t", epoch)
  local weekend = t.wday == 1 or t.wday == 7
  local peak = not weekend and t.hour >= 9 and t.hour < 18
  return string.format("%s %02d:%02d %s", os.date("!%a", epoch), t.hour, t.min, peak and "peak:100" or "offpeak:1000")
end
print(limit_for(1700000000))
