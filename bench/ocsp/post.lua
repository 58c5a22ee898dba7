-- wrk script: POST application/ocsp-request, one of the pre-built requests at random per request.
--   wrk -t2 -c64 -d20s -s bench/ocsp/post.lua http://127.0.0.1:3001/ocsp -- <requests.hex>
-- <requests.hex>: one DER OCSPRequest per line in hex (bench/ocsp/make-requests.ts).
local bodies = {}
local count = 0

local function unhex(line)
  return (line:gsub('..', function(byte) return string.char(tonumber(byte, 16)) end))
end

function init(args)
  local path = args[1] or 'requests.hex'
  for line in io.lines(path) do
    if #line > 0 then
      count = count + 1
      bodies[count] = wrk.format('POST', nil, { ['Content-Type'] = 'application/ocsp-request' }, unhex(line))
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  return bodies[math.random(count)]
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
