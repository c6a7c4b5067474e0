-- Spec helper: a test CA and a server certificate for 127.0.0.1/localhost,
-- made at test time with the openssl command in a temporary directory.
-- The work is done by helpers.emulator.make_tls (shared with the emulator
-- host specs); this adds a second, unrelated CA and cleanup.
--
--   local tls = require "helpers.tls"
--   local pki = tls.make()       -- { ca =, cert =, key =, dir =, other_ca = }
--   ...
--   tls.remove(pki)
local emulator_helper = require "helpers.emulator"

local M = {}

--- Makes a CA, a server certificate signed by it (SAN IP:127.0.0.1,
-- DNS:localhost) and a second CA that did not sign it.
function M.make()
  local pki = emulator_helper.make_tls()
  local other = emulator_helper.make_tls()
  pki.other_ca = other.ca
  pki.other_dir = other.dir
  return pki
end

function M.remove(pki)
  if not pki then return end
  emulator_helper.rmdir(pki.dir)
  emulator_helper.rmdir(pki.other_dir)
end

return M
