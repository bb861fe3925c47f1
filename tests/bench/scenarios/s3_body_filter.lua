local chunk = ngx.arg[1]
if #chunk > 0 then
  ngx.arg[1] = (chunk:gsub('"status":"%a+"', '"status":"redacted"'))
end
