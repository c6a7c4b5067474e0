-- The catalogue of public functions the bad-input walk feeds: one case per
-- function, with valid arguments that the walk replaces one at a time by
-- each bad value. Lists derived from the modules themselves (core.actions,
-- the client class, the C client's metatable) are checked against this
-- catalogue, so a new public function without a case fails the spec.
--   case = { name =, fn = function(args...) , args = { valid args },
--            opts = index of an options table (its keys are fed too),
--            keys = { option names }, strict = true when unknown keys must raise }
local core = require "ecs.core"

local M = {}

local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end
M.copy = copy

--- Core module functions (ecs.core), keyed by name.
function M.core_cases()
  local flat = { Action = "DescribeRegions", RegionId = "cn-hangzhou" }
  return {
    percent_encode = { args = { "a b" } },
    percent_decode = { args = { "a%20b" } },
    canonical_query = { args = { flat } },
    parse_query = { args = { "a=1&b=2" } },
    flatten = { args = { { InstanceId = { "i-1" }, Parameters = { a = "b" } } } },
    json_encode = { args = { { a = 1 } } },
    v2_string_to_sign = { args = { "POST", flat } },
    v2_signature = { args = { "secret", "POST&%2F&x" } },
    v3_canonical_request = { args = { "POST", "/", flat, { host = "h", ["x-acs-action"] = "A" }, "e3b0" } },
    v3_string_to_sign = { args = { "canonical" } },
    v3_signature = { args = { "secret", "sts" } },
    sha256_hex = { args = { "abc" } },
    hmac_sha1 = { args = { "k", "abc" } },
    hmac_sha256 = { args = { "k", "abc" } },
    base64_encode = { args = { "abc" } },
    base64_decode = { args = { "YWJj" } },
    random_hex = { args = { 16 } },
    uuid = { args = {} },
    timestamp = { args = { 1700000000 } },
    parse_timestamp = { args = { "2023-11-14T22:13:20Z" } },
    parse_http_date = { args = { "Tue, 14 Nov 2023 22:13:20 GMT" } },
    decode = { args = { 200, '{"RequestId":"r"}', { ["content-type"] = "application/json" } } },
    new_error = { args = { { code = "X", message = "m" } } },
    new = { args = { { endpoint = "http://127.0.0.1:1", region = "cn-hangzhou", access_key_id = "id",
                       access_key_secret = "s" } }, opts = 1, strict = true,
            keys = { "endpoint", "region", "access_key_id", "access_key_secret", "security_token",
                     "signature_version", "connect_timeout", "timeout", "verify", "ca_file", "ca_path", "proxy",
                     "no_proxy", "user_agent", "version" } },
  }
end

--- Methods of the C client (cl = core.new{...}); `fresh` makes the client.
function M.core_client_cases()
  local params = { RegionId = "cn-hangzhou" }
  local req = { method = "POST", url = "http://127.0.0.1:1/", headers = { ["content-type"] = "x" }, body = "" }
  local cases = {
    call = { args = { "DescribeRegions", params, { timeout = 1 } }, opts = 3, strict = true,
             keys = { "timeout", "connect_timeout", "nonce", "timestamp" } },
    prepare = { args = { "DescribeRegions", params, {} }, opts = 3, strict = true,
                keys = { "nonce", "timestamp" } },
    send = { args = { req, { timeout = 1 } }, opts = 2, strict = true, keys = { "timeout", "connect_timeout" } },
    send_batch = { args = { { req }, { concurrency = 2 } }, opts = 2, strict = true,
                   keys = { "concurrency", "timeout", "connect_timeout" } },
    call_batch = { args = { { { "DescribeRegions", params } }, { concurrency = 2 } }, opts = 2, strict = true,
                   keys = { "concurrency", "timeout", "connect_timeout" } },
    set_credentials = { args = { "id", "secret", "token" } },
    set_time_offset = { args = { 5 } },
    time = { args = {} },
    stats = { args = {} },
    close = { args = {} },
  }
  for _, a in ipairs(core.actions) do
    cases[a.method] = { args = { params, { timeout = 1 } }, opts = 2, strict = true,
                        keys = { "timeout", "connect_timeout" } }
  end
  return cases
end

--- Functions of the ecs module (the default client must be set first).
function M.module_cases()
  local cases = {
    new = { args = { { region = "cn-hangzhou", endpoint = "http://127.0.0.1:1", access_key_id = "id",
                       access_key_secret = "s" } }, opts = 1, strict = true,
            keys = { "region", "endpoint", "network", "access_key_id", "access_key_secret", "security_token",
                     "signature_version", "timeout", "retry", "tls", "proxy", "no_proxy", "logger", "user_agent",
                     "validate", "instance_zone", "credentials", "clock", "sleep", "random", "transport",
                     "ngx", "quota" } },
    request = { args = { "DescribeInstances", { RegionId = "cn-hangzhou" }, { timeout = 1 } }, opts = 3,
                strict = true, keys = { "retry", "timeout", "connect_timeout", "validate" } },
    is_error = { args = { {} } },
    default_client = { args = {} },
    set_default_client = { skip_walk = "changes the module's default client; checked on its own below" },
  }
  for _, a in ipairs(core.actions) do
    cases[a.method] = { args = { { RegionId = "cn-hangzhou" }, { timeout = 1 } }, opts = 2, strict = true,
                        keys = { "retry", "timeout", "connect_timeout", "validate" } }
  end
  return cases
end

--- Client methods (client:name(args...)).
function M.client_cases()
  local fleet_keys = { "targets", "batch_size", "concurrency", "max_errors", "rate", "wait", "on_batch",
                       "on_result", "on_progress", "poll", "grace", "slack", "wait_timeout", "check_vpc",
                       "min_agent" }
  local cases = {
    call = { args = { "DescribeInstances", { RegionId = "cn-hangzhou" }, { timeout = 1 } }, opts = 3, strict = true,
             keys = { "retry", "timeout", "connect_timeout", "validate" } },
    request = { args = { "DescribeInstances", { RegionId = "cn-hangzhou" }, { timeout = 1 } }, opts = 3,
                strict = true, keys = { "retry", "timeout", "connect_timeout", "validate" } },
    call_batch = { args = { { { "DescribeInstances", { RegionId = "cn-hangzhou" } } }, { concurrency = 2 } },
                   opts = 2, strict = true, keys = { "concurrency" } },
    prepare = { args = { "DescribeInstances", { RegionId = "cn-hangzhou" }, {} }, opts = 3,
                keys = { "validate" } },
    select_instances = { args = { { targets = { "i-1" } } }, opts = 1, strict = true,
                         keys = { "targets", "concurrency", "rate", "check_vpc", "min_agent" } },
    invoke_fleet = { args = { { CommandId = "c-1", targets = { "i-1" }, wait = false } }, opts = 1, strict = true,
                     keys = fleet_keys },
    plan_fleet = { args = { { CommandId = "c-1", targets = { "i-1" } } }, opts = 1, strict = true,
                   keys = fleet_keys },
    wait_invocation = { args = { "t-1", { timeout = 30 } }, opts = 2, strict = true,
                        keys = { "region", "instances", "timeout", "command_timeout", "slack", "grace", "poll",
                                 "on_result", "on_progress", "concurrency", "rate" } },
    invocation_results = { args = { "t-1", {} }, opts = 2, strict = true, keys = { "region" } },
    rerun = { args = { { results = {}, request = { params = {}, options = {} }, region = "cn-hangzhou" }, {} },
              opts = 2, keys = { "max" } },
    invocation_quota = { args = { "cn-hangzhou" } },
    stats = { args = {} },
    close = { args = {} },
    __tostring = { args = {} },
    __close = { args = {} },
  }
  for _, a in ipairs(core.actions) do
    cases[a.method] = { args = { { RegionId = "cn-hangzhou" }, { timeout = 1 } }, opts = 2, strict = true,
                        keys = { "retry", "timeout", "connect_timeout", "validate" } }
  end
  return cases
end

--- Functions on the client class that are plumbing between its modules
-- (used by the client itself, the fleet layer and the transports), each
-- with the reason it is not part of the public surface.
M.CLIENT_INTERNAL = {
  apply_credentials = "puts the provider's credentials on a transport",
  attempt = "one attempt of call(), run by the retry loop",
  correct_skew = "clock-skew step of the retry loop",
  diagnose = "SignatureDoesNotMatch diagnosis of a failed call",
  log = "sends an event to the configured logger",
  policy_for = "retry policy of one call",
  prepare_params = "local checks and ClientToken of one call",
  retry_env = "environment of the retry loop",
  scrub = "replaces known secrets in a text",
  scrub_error = "scrubs an error's message",
  secrets = "the secrets scrub() looks for",
  transport = "the transport object of the client",
}

--- ecs.frequency
function M.frequency_cases()
  local expr = "0 0 2 * * ? Asia/Shanghai"
  return {
    rate = { args = { 5, "m" } },
    at = { args = { 4102444800, 8 } },
    cron = { args = { { hour = 2 }, "Asia/Shanghai" }, opts = 1,
             keys = { "second", "minute", "hour", "day", "month", "weekday", "year" } },
    daily = { args = { { hour = 2 } }, opts = 1, strict = true, keys = { "hour", "minute", "second", "zone" } },
    weekly = { args = { { day = 1, hour = 2 } }, opts = 1, strict = true,
               keys = { "day", "hour", "minute", "second", "zone" } },
    monthly = { args = { { day = 1, hour = 2 } }, opts = 1, strict = true,
                keys = { "day", "hour", "minute", "second", "zone" } },
    validate = { args = { expr, { now = 1700000000 } }, opts = 2, strict = true,
                 keys = { "timeout", "now", "zoneinfo", "instance_zone" } },
    ["next"] = { args = { expr, { from = 1700000000, count = 3 } }, opts = 2, strict = true,
                 keys = { "from", "count", "instance_zone", "zoneinfo", "start" } },
    describe = { args = { expr } },
    check_request = { args = { { Frequency = expr, Timeout = 60 }, { now = 1700000000 } }, opts = 2, strict = true,
                      keys = { "default_timeout", "instance_zone", "now", "zoneinfo" } },
    zone = { args = { "Asia/Shanghai", {} }, opts = 2, keys = { "zoneinfo" } },
  }
end

--- ecs.zoneinfo (module functions documented in docs/schedules.md and the
-- parsers), plus the methods of a zone object.
function M.zoneinfo_cases()
  return {
    get = { args = { "Asia/Shanghai", {} }, opts = 2, keys = { "dir" } },
    clear_cache = { args = {} },
    classify = { args = { "Asia/Shanghai" } },
    parse_gmt = { args = { "GMT+8:00" } },
    parse_posix = { args = { "CST-8" } },
    parse_tzif = { args = { "TZif", "x" } },
  }
end

--- Date arithmetic helpers the zone code shares (numbers in, numbers out).
M.ZONEINFO_INTERNAL = {
  civil_from_days = "date arithmetic", days_from_civil = "date arithmetic", weekday = "date arithmetic",
  is_leap = "date arithmetic", days_in_month = "date arithmetic", wall_seconds = "date arithmetic",
  wall_fields = "date arithmetic", format_wall = "date arithmetic", rule_transitions = "POSIX rule arithmetic",
  fixed = "fixed-offset zone constructor used by the parsers",
}

function M.zone_method_cases()
  return {
    offset = { args = { 1700000000 } },
    to_wall = { args = { 1700000000 } },
    from_wall = { args = { 1700000000 } },
    segment = { args = { 1700000000 } },
    is_fixed = { args = {} },
    __tostring = { args = {} },
  }
end

--- The emulator module and its service object.
function M.emulator_cases()
  return {
    new = { args = { { seed = 1 } }, opts = 1, strict = true,
            keys = { "credentials", "fleet", "clock", "time_scale", "check_timestamp", "quota", "faults", "seed",
                     "verify_signatures", "timing", "request_log_limit", "clock_offset" } },
    generate_fleet = { args = { { count = 3 } }, opts = 1,
                       keys = { "count", "regions", "seed", "running", "offline", "windows", "prefix" } },
  }
end

function M.service_cases()
  local req = { method = "POST", path = "/", query = "", body = "Action=DescribeRegions",
                headers = { ["content-type"] = "application/x-www-form-urlencoded", host = "127.0.0.1" } }
  return {
    handle = { args = { req }, opts = 1, keys = { "method", "path", "query", "headers", "body" }, never_raises = true },
    reset = { args = {} },
    set_faults = { args = { {} } },
    add_faults = { args = { {} } },
    faults = { args = {} },
    advance = { args = { 1 } },
    now = { args = {} },
    requests = { args = { 0, "DescribeRegions" } },
    clear_requests = { args = {} },
    counters = { args = {} },
    state = { args = {} },
    load_fleet = { args = { nil } },
    set_instance = { args = { "i-bp1emuweb01", { AgentOnline = true } } },
    set_credential = { args = { "id2", "secret2" } },
    set_clock_offset = { args = { 0 } },
    clock_offset = { args = {} },
    __tostring = { args = {} },
    _fresh = { internal = "rebuilds the run-time state (reset and load_fleet call it)" },
  }
end

return M
