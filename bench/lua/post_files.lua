-- wrk script: POST / with multipart uploads (curl -F "x=@file"), cycling
-- through the files named by the script arguments; bodies are built once.
local bodies = {}
local i = 0
local boundary = "pefleetbenchboundary7d1f"
function init(args)
  for _, path in ipairs(args) do
    local f = io.open(path, "rb")
    local data = f:read("*a")
    f:close()
    bodies[#bodies + 1] = "--" .. boundary .. "\r\n" ..
      "Content-Disposition: form-data; name=\"x\"; filename=\"sample.exe\"\r\n" ..
      "Content-Type: application/octet-stream\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
  end
end
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/", {["Content-Type"] = "multipart/form-data; boundary=" .. boundary}, bodies[i])
end
