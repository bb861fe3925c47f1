-- a tail call to a library function: its error has no position and names the function
-- "?" (the calling frame is gone); a method call keeps its position (an operator here)
print(pcall(function() return string.rep() end))
print(pcall(function() local s = "x" return s:nosuch() end))
