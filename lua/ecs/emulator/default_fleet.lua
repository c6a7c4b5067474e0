-- The built-in fleet: 20 instances over cn-hangzhou and cn-shanghai, with
-- every state an automation script meets (stopped, agent offline, agent
-- missing, old agent, Windows, classic network).
local function inst(id, name, region, zone, status, os, online, version, tags, extra)
  local t = {
    InstanceId = id, InstanceName = name, RegionId = region, ZoneId = zone, Status = status,
    OSType = os, AgentOnline = online, AgentVersion = version, Tags = tags,
  }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local HZ, SH = "cn-hangzhou", "cn-shanghai"
local L, W = "linux", "windows"
local LV, WV, OLD = "2.2.3.512", "2.1.3.512", "2.2.0.106"

return {
  instances = {
    inst("i-bp1emuweb01", "web-01", HZ, "cn-hangzhou-h", "Running", L, true, LV,
      { env = "prod", app = "web" }, { ResourceGroupId = "rg-prod" }),
    inst("i-bp1emuweb02", "web-02", HZ, "cn-hangzhou-h", "Running", L, true, LV,
      { env = "prod", app = "web" }, { ResourceGroupId = "rg-prod" }),
    inst("i-bp1emuweb03", "web-03", HZ, "cn-hangzhou-i", "Running", L, true, LV,
      { env = "staging", app = "web" }),
    inst("i-bp1emudb01", "db-01", HZ, "cn-hangzhou-h", "Running", L, true, OLD,
      { env = "prod", app = "db" }, { ResourceGroupId = "rg-prod" }),
    inst("i-bp1emudb02", "db-02", HZ, "cn-hangzhou-i", "Stopped", L, false, LV,
      { env = "prod", app = "db" }, { ResourceGroupId = "rg-prod" }),
    inst("i-bp1emuwin01", "win-01", HZ, "cn-hangzhou-h", "Running", W, true, WV,
      { env = "prod", app = "iis" }, { OSName = "Windows Server 2022 Datacenter 64bit" }),
    inst("i-bp1emuwin02", "win-02", HZ, "cn-hangzhou-i", "Running", W, false, WV,
      { env = "staging", app = "iis" }, { OSName = "Windows Server 2019 Datacenter 64bit" }),
    inst("i-bp1emubatch01", "batch-01", HZ, "cn-hangzhou-h", "Running", L, true, LV,
      { env = "dev", app = "batch" }, { InstanceNetworkType = "classic" }),
    inst("i-bp1emubatch02", "batch-02", HZ, "cn-hangzhou-h", "Starting", L, false, LV,
      { env = "dev", app = "batch" }),
    inst("i-bp1emucache01", "cache-01", HZ, "cn-hangzhou-i", "Running", L, true, LV,
      { env = "prod", app = "cache" }),
    inst("i-bp1emubare01", "bare-01", HZ, "cn-hangzhou-i", "Running", L, false, "",
      { env = "dev" }),
    inst("i-bp1emubuild01", "build-01", HZ, "cn-hangzhou-h", "Stopping", L, true, LV,
      { env = "dev", app = "ci" }),
    inst("i-uf6emuweb01", "sh-web-01", SH, "cn-shanghai-l", "Running", L, true, LV,
      { env = "prod", app = "web" }),
    inst("i-uf6emuweb02", "sh-web-02", SH, "cn-shanghai-l", "Running", L, true, LV,
      { env = "prod", app = "web" }),
    inst("i-uf6emugame01", "game-01", SH, "cn-shanghai-m", "Running", L, true, LV,
      { env = "prod", app = "game" }, { ResourceGroupId = "rg-game" }),
    inst("i-uf6emugame02", "game-02", SH, "cn-shanghai-m", "Running", L, true, LV,
      { env = "prod", app = "game" }, { ResourceGroupId = "rg-game" }),
    inst("i-uf6emugame03", "game-03", SH, "cn-shanghai-m", "Pending", L, false, "",
      { env = "prod", app = "game" }, { ResourceGroupId = "rg-game" }),
    inst("i-uf6emuwin01", "sh-win-01", SH, "cn-shanghai-l", "Running", W, true, WV,
      { env = "prod", app = "ops" }, { OSName = "Windows Server 2022 Datacenter 64bit" }),
    inst("i-uf6emuops01", "ops-01", SH, "cn-shanghai-l", "Stopped", W, false, WV,
      { env = "staging", app = "ops" }, { OSName = "Windows Server 2019 Datacenter 64bit" }),
    inst("i-uf6emuops02", "ops-02", SH, "cn-shanghai-m", "Running", L, false, LV,
      { env = "staging", app = "ops" }),
  },
}
