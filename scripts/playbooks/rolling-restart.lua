-- rolling-restart.lua: restart every server with one short switchover (e.g. after changing a
-- restart-only setting such as shared_buffers).
--
--   keel -f /etc/keel.conf run scripts/playbooks/rolling-restart.lua node=ID [switch_back=true|false]
--        [lag_max=BYTES] [timeout=SECONDS] [--dry-run] [--yes] [--json]
--
-- Arguments: node (required) the standby that becomes primary while the old primary restarts;
-- switch_back (default false) switch back to the old primary at the end; lag_max (default 1048576) bytes
-- a restarted standby may lag to count as caught up; timeout (default 120) seconds to wait for each.
-- Steps: for each standby, one at a time: restart it (`keel node service --action=restart`), wait until it
-- streams and has caught up; then switchover to node; restart the old primary, wait for it; then, with
-- switch_back=true, switchover back to the old primary and wait for every standby (a dry run cannot
-- check the switch back: it needs the first switchover done).
local p = keel.params{ node = keel.required, switch_back = false, lag_max = 1048576, timeout = 120 }
local target = tonumber(p.node)

local old, standbys = nil, {}
for _, n in ipairs(keel.nodes()) do
  if n.type == "primary" and n.active then old = n
  elseif n.type == "standby" and n.active then standbys[#standbys + 1] = n end
end
assert(old, "no active primary is registered")

local function caught_up(id)
  return function()
    local n = keel.node_by_id(id)
    if not n or n.status ~= "running" or not n.is_in_recovery or (n.lag_bytes or math.huge) > p.lag_max then return false end
    for _, m in ipairs(keel.nodes()) do
      if m.type ~= "witness" and m.is_in_recovery == false then
        local rows = keel.query(m.id, "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", n.name)
        return #rows > 0
      end
    end
    return false
  end
end

local function restart(n)
  keel.step("restart " .. n.name, function() keel.service(n.id, "restart") end)
  keel.step("wait for " .. n.name .. " to catch up", function()
    keel.wait_for(caught_up(n.id), { timeout = p.timeout, what = n.name .. " to stream within " .. p.lag_max .. " bytes" })
  end)
end

for _, n in ipairs(standbys) do restart(n) end
keel.step("switchover to node " .. p.node, function() keel.switchover(target, { siblings_follow = true }) end)
restart(old)
if p.switch_back then
  keel.step("switch back to " .. old.name, function()
    -- A dry run cannot check this one: its checks need the first switchover to have happened.
    if keel.dry_run then return "dry run: checked only after the first switchover has run" end
    keel.switchover(old.id, { siblings_follow = true })
  end)
  keel.step("wait for " .. keel.node_by_id(target).name .. " to catch up", function()
    keel.wait_for(caught_up(target), { timeout = p.timeout, what = "node " .. p.node .. " to stream again" })
  end)
end
