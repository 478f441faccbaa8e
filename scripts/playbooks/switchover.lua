-- switchover.lua: a planned switchover behind gates.
--
--   keel -f /etc/keel.conf run scripts/playbooks/switchover.lua node=ID [lag_max=BYTES] [daemons=true|false]
--        [siblings_follow=true|false] [timeout=SECONDS] [--dry-run] [--yes] [--json]
--
-- Arguments: node (required) the standby to promote; lag_max (default 1048576) most bytes any standby may
-- lag; daemons (default true) require keeld running on every active node (heartbeat within 30 s);
-- siblings_follow (default true) the other standbys follow the new primary; timeout (default 60) seconds
-- to wait for every standby to stream from it.
-- Steps: three gates (lag, daemons, no paused keeld), the switchover (`keel standby switchover` on the
-- node), then a check that every standby streams from the new primary. A failed gate changes nothing.
local p = keel.params{ node = keel.required, lag_max = 1048576, daemons = true, siblings_follow = true, timeout = 60 }
local target = tonumber(p.node)

local function primary()
  for _, n in ipairs(keel.nodes()) do
    if n.type ~= "witness" and n.status == "running" and n.is_in_recovery == false then return n end
  end
end

keel.step("gate: node " .. p.node .. " is a running standby, every standby lags at most " .. p.lag_max .. " bytes", function()
  local t = keel.node_by_id(target)
  if not t then return false, "no node with ID " .. p.node end
  if t.status ~= "running" or not t.is_in_recovery then return false, t.name .. " is not a running standby" end
  for _, n in ipairs(keel.nodes()) do
    if n.type == "standby" and n.active then
      if n.status ~= "running" then return false, n.name .. " is " .. tostring(n.status) end
      if (n.lag_bytes or 0) > p.lag_max then return false, n.name .. " lags " .. n.lag_bytes .. " bytes" end
    end
  end
end)

keel.step("gate: keeld runs on every active node", function()
  if not p.daemons then return "not required (daemons=false)" end
  local pr = assert(primary(), "no running primary")
  local rows = keel.query(pr.id, [[SELECT n.node_name FROM repmgr.nodes n LEFT JOIN repmgr.keel_daemon d USING (node_id)
                                   WHERE n.active AND (d.last_heartbeat IS NULL OR d.last_heartbeat < now() - interval '30 seconds')]])
  if #rows > 0 then
    local names = {}
    for _, r in ipairs(rows) do names[#names + 1] = r.node_name end
    return false, "keeld not running on " .. table.concat(names, ", ")
  end
end)

keel.step("gate: no keeld is paused", function()
  local pr = assert(primary(), "no running primary")
  local rows = keel.query(pr.id, "SELECT node_id FROM repmgr.keel_daemon WHERE paused")
  if #rows > 0 then return false, #rows .. " keeld paused (keel service unpause)" end
end)

keel.step("switchover to node " .. p.node, function()
  keel.switchover(target, { siblings_follow = p.siblings_follow })
end)

keel.step("every standby streams from node " .. p.node, function()
  keel.wait_for(function()
    local new = keel.node_by_id(target)
    if not new or new.is_in_recovery ~= false then return false end
    local streaming = {}
    for _, r in ipairs(keel.query(target, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")) do
      streaming[r.application_name] = true
    end
    for _, n in ipairs(keel.nodes()) do
      if n.type == "standby" and n.active and n.id ~= target and not streaming[n.name] then return false end
    end
    return true
  end, { timeout = p.timeout, what = "every standby to stream from node " .. p.node })
end)
