-- string.rep through _G
-- (in lax/sandbox `_G` is Kong's environment table: require, kong, ngx, _G; no string)
-- expect strict,on: 200 function
-- expect lax,sandbox: 500 attempt to index
return kong.response.exit(200, type(_G._G._G.string.rep))
