kong.response.set_header("x-served-by", "kong-functions")
kong.response.set_header("x-cache", "miss")
