-- Rolling restart: run a restart script on every instance tagged app=web,
-- one instance at a time, the first one as a canary; stop at the first
-- instance that does not come back healthy, and print what each one said.
--
--   ECS_ENDPOINT=http://127.0.0.1:PORT lua5.4 examples/rolling_restart.lua
--
-- It talks only to ECS_ENDPOINT (it refuses to start without it). Credentials
-- come from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET, or
-- the emulator's test pair when those are not set. Optional: ECS_REGION
-- (default cn-hangzhou), ECS_SIGNATURE_VERSION (v3 or v2).
local ecs = require "ecs"

local TAG = { app = "web" }
local SCRIPT = [[
echo "draining {{ACS::InstanceName}}"
sleep 5
echo "restarting the server process"
sleep 10
echo "healthy"
exit 0
]]

local function say(fmt, ...) io.write(fmt:format(...), "\n") end

local endpoint = os.getenv("ECS_ENDPOINT")
if not endpoint or endpoint == "" then
  say("rolling_restart: set ECS_ENDPOINT (for example the emulator: bin/ecs-emulator --port 0)")
  os.exit(2)
end

local client = ecs.new {
  region = os.getenv("ECS_REGION") or "cn-hangzhou",
  endpoint = endpoint,
  access_key_id = os.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") or "testid",
  access_key_secret = os.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") or "testsecret",
  signature_version = os.getenv("ECS_SIGNATURE_VERSION") or "v3",
}

say("Rolling restart of the instances tagged app=web in %s", client.config.region)

local report, err = client:invoke_fleet {
  Type = "RunShellScript", CommandContent = SCRIPT, EnableParameter = true, Timeout = 120,
  Name = "rolling-restart",
  targets = { tags = TAG },
  batch_size = 1,          -- one instance at a time
  max_errors = 0,          -- stop at the first instance that fails
  poll = { min = 0.5, max = 5 },
  on_result = function(r)
    say("  %-16s %-9s exit %-4s %s", r.InstanceId, r.class, tostring(r.exit_code),
      (r.output:gsub("\n", " | "):gsub(" | $", "")))
  end,
  on_batch = function(b)
    if b.index == 1 and b.counts.success ~= #b.InstanceId then
      return "stop", "the canary did not come back healthy"
    end
    say("batch %d/%d done", b.index, b.total)
  end,
}
if not report then
  say("rolling_restart: nothing was run: %s", tostring(err))
  os.exit(1)
end

for _, s in ipairs(report.skipped) do
  say("  skipped %-16s %s: %s", s.InstanceId, s.reason, s.message)
end
local c = report.counts
say("success %d, failed %d, timeout %d, cancelled %d, infra %d, skipped %d, not launched %d",
  c.success, c.failed, c.timeout, c.cancelled, c.infra, c.skipped, c.not_launched)
say("API calls: %d", report.calls.total)
if report.stopped then
  say("stopped early: %s", report.stopped)
  os.exit(1)
end
if #report.eligible == 0 or c.success ~= #report.eligible then os.exit(1) end
say("all %d instances restarted", c.success)
client:close()
