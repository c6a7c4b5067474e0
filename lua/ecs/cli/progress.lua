--- Live progress of anything that waits. On a terminal: one line, rewritten
-- in place (done/total, success, failed, infra, elapsed), then a table per
-- instance. Elsewhere: one plain line per instance as it finishes.
-- Modes: "live" (terminal), "lines" (plain), "off".
local output = require "ecs.cli.output"

local format = string.format
local math_floor, math_max = math.floor, math.max
local type = type

local M = {}

local P = {}
P.__index = P

--- mode(ctx, o) -> "live" | "lines" | "off" for the options of a run.
function M.mode(ctx, o)
  if o.no_progress then return "off" end
  if ctx.isatty(2) then return "live" end
  if o.json then return "off" end
  return "lines"
end

--- new(ctx, mode, opts) -> progress. opts.total: instances expected (may grow later).
function M.new(ctx, mode, opts)
  opts = opts or {}
  local self = setmetatable({ ctx = ctx, mode = mode, started = ctx.clock(), total = opts.total or 0,
    done = 0, counts = { success = 0, failed = 0, timeout = 0, cancelled = 0, infra = 0 },
    seen = {}, shown = false, label = opts.label or "" }, P)
  return self
end

local function elapsed(s)
  s = math_max(0, math_floor(s))
  if s >= 3600 then return format("%d:%02d:%02d", math_floor(s / 3600), math_floor(s % 3600 / 60), s % 60) end
  return format("%02d:%02d", math_floor(s / 60), s % 60)
end
M.elapsed = elapsed

--- line() -> the text of the live line.
function P:line()
  local c = self.counts
  local other = c.timeout + c.cancelled
  local text = format("%s%d/%d done  success %d  failed %d  infra %d%s  elapsed %s", self.label,
    self.done, self.total, c.success, c.failed, c.infra, other > 0 and format("  other %d", other) or "",
    elapsed(self.ctx.clock() - self.started))
  return text
end

function P:draw()
  if self.mode ~= "live" then return end
  local width = self.ctx.width()
  local text = self:line()
  if #text > width - 1 then text = text:sub(1, width - 1) end
  self.ctx.stderr:write("\r\27[K", text)
  if self.ctx.stderr.flush then self.ctx.stderr:flush() end
  self.shown = true
end

--- update(p): an on_progress event of the fleet layer (total may be given).
function P:update(p)
  if type(p) == "table" and type(p.total) == "number" and p.total > self.total then self.total = p.total end
  self:draw()
end

--- result(r): one instance finished.
function P:result(r)
  local id = r.InstanceId
  if not self.seen[id] then
    self.seen[id] = true
    self.done = self.done + 1
    if self.done > self.total then self.total = self.done end
  elseif self.seen[id] ~= true then
    local old = self.seen[id]
    self.counts[old] = self.counts[old] - 1
  end
  if r.class and self.counts[r.class] then
    self.counts[r.class] = self.counts[r.class] + 1
    self.seen[id] = r.class
  end
  if self.mode == "lines" then
    local row = output.result_row(r)
    self.ctx.stdout:write(format("%s %s %s exit=%s %s\n", row[1], row[2], row[3], row[4], row[5]))
    if self.ctx.stdout.flush then self.ctx.stdout:flush() end
  else
    self:draw()
  end
end

--- finish(): removes the live line (the final table follows on stdout).
function P:finish()
  if self.mode == "live" and self.shown then
    self:draw()
    self.ctx.stderr:write("\n")
    if self.ctx.stderr.flush then self.ctx.stderr:flush() end
  end
end

--- summary() -> "done in 00:03: 3 success, 1 failed"
function P:summary(counts)
  return format("%d/%d done in %s: %s", self.done, self.total, elapsed(self.ctx.clock() - self.started),
    output.counts_text(counts or self.counts))
end

return M
