local count = 0
return function()
  count = count + 1
  return kong.response.exit(200, { count = count, message = "hello" })
end
