-- string.rep through _G
-- expect strict,lax,on: 200 function
-- expect sandbox: 200 nil
return kong.response.exit(200, type(_G._G._G.string.rep))
