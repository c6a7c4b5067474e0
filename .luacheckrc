-- luacheck configuration for aliyun-ecs
std = "max"
max_line_length = 120
codes = true
exclude_files = { "build*/**", ".ci/**" }
files["spec/**"] = { std = "+busted" }
files["lua/ecs/transport/ngx.lua"] = { read_globals = { "ngx" } }
files["examples/openresty/**"] = { read_globals = { "ngx" } }
files["spec/70_openresty/**"] = { read_globals = { "ngx" } }
