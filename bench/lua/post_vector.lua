-- wrk script: POST / with one urlencoded vector (x=v0,v1,...), the seed's
-- form. The vector is read from the file named by the first script argument.
local f = nil
function init(args)
  f = io.open(args[1], "r")
  local x = f:read("*l")
  f:close()
  wrk.method = "POST"
  wrk.path = "/"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = "x=" .. x
end
