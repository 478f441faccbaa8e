-- Keel sample hook: site actions after this node fenced itself.
--
--   fence_command = 'lua:/etc/keel/hooks/fence.lua'
--
-- keeld calls it once the local server no longer acknowledges commits (synchronous_standby_names set
-- to a name no standby has) and fence_action ran (demote: restarted read-only in recovery; stop). What
-- is left is outside PostgreSQL: clients still pointed at this host.
--
-- fence = { node_id, node_name, reason ("isolated" or "former_primary"), action ("demote" or "stop"),
--           details, timeline, term }
-- Return true, or false and a reason (logged; the fence itself stays in place either way).

local VIP = ""                   -- e.g. "10.0.0.50/24": the service address to drop from this host; "" = none
local DEVICE = "eth0"            -- the interface holding VIP
local PGBOUNCER = ""             -- e.g. "host=127.0.0.1 port=6432 dbname=pgbouncer user=pgbouncer"; "" = none

return function(fence)
  keel.log.warn(string.format("node %s fenced (%s, %s): %s", fence.node_name, fence.reason, fence.action, fence.details))
  local problems = {}
  if VIP ~= "" then
    local r = keel.shell("ip addr del " .. VIP .. " dev " .. DEVICE, { timeout = 5 })
    -- exit 2 with "Cannot assign requested address": the address was not here, which is what we want
    if r.code ~= 0 and not r.stderr:find("Cannot assign") then
      table.insert(problems, "ip addr del " .. VIP .. ": " .. r.stderr)
    end
  end
  if PGBOUNCER ~= "" then
    local r = keel.shell("psql -X -q -c 'PAUSE' '" .. PGBOUNCER .. "'", { timeout = 5 })
    if r.code ~= 0 then table.insert(problems, "pgbouncer PAUSE: " .. r.stderr) end
  end
  if #problems > 0 then return false, table.concat(problems, "; ") end
  return true
end
