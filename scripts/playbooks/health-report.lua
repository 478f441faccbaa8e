-- health-report.lua: a table of nodes, roles, lag, timeline, slots and keeld state; exits non-zero
-- (step "check" fails, exit status 1) when something is wrong.
--
--   keel -f /etc/keel.conf run scripts/playbooks/health-report.lua [lag_max=BYTES] [daemons=true|false] [--json]
--
-- Arguments: lag_max (default 1048576) bytes of lag that count as a problem; daemons (default true) a
-- node without a running keeld (no heartbeat within 30 s) counts as a problem.
-- Wrong: an unreachable active node, no primary or more than one, a standby that does not stream, lag over
-- lag_max, a timeline other than the primary's, an inactive replication slot, a missing or paused keeld.
-- Changes nothing (it has no operations), so --dry-run gives the same report.
local p = keel.params{ lag_max = 1048576, daemons = true }
local problems, rows = {}, {}

keel.step("collect", function()
  local nodes = keel.nodes()
  local primaries = {}
  for _, n in ipairs(nodes) do
    if n.type ~= "witness" and n.is_in_recovery == false then primaries[#primaries + 1] = n end
  end
  if #primaries ~= 1 then problems[#problems + 1] = #primaries .. " running primaries" end
  local pr = primaries[1]
  local streaming, slots, daemons = {}, {}, {}
  if pr then
    for _, r in ipairs(keel.query(pr.id, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")) do streaming[r.application_name] = true end
    for _, r in ipairs(keel.query(pr.id, "SELECT slot_name, active FROM pg_replication_slots")) do
      slots[#slots + 1] = r.slot_name .. (r.active and "" or " (inactive)")
      if not r.active then problems[#problems + 1] = "slot " .. r.slot_name .. " is inactive" end
    end
    for _, r in ipairs(keel.query(pr.id, "SELECT node_id, paused, last_heartbeat > now() - interval '30 seconds' AS alive FROM repmgr.keel_daemon")) do
      daemons[r.node_id] = r.paused and "paused" or (r.alive and "running" or "stale")
    end
  end
  print(string.format("%-4s %-12s %-8s %-12s %12s %4s  %s", "ID", "Name", "Role", "Status", "Lag (bytes)", "TL", "keeld"))
  for _, n in ipairs(nodes) do
    local role = n.is_in_recovery == false and n.type ~= "witness" and "primary" or n.type
    local d = daemons[n.id] or "none"
    print(string.format("%-4d %-12s %-8s %-12s %12s %4s  %s", n.id, n.name, role, tostring(n.status),
      n.lag_bytes and tostring(n.lag_bytes) or "-", n.timeline and tostring(n.timeline) or "-", d))
    if n.active then
      if n.status ~= "running" then problems[#problems + 1] = n.name .. " is " .. tostring(n.status) end
      if n.type == "standby" and n.status == "running" then
        if not streaming[n.name] then problems[#problems + 1] = n.name .. " does not stream from the primary" end
        if (n.lag_bytes or 0) > p.lag_max then problems[#problems + 1] = n.name .. " lags " .. n.lag_bytes .. " bytes" end
        if pr and n.timeline and pr.timeline and n.timeline ~= pr.timeline then problems[#problems + 1] = n.name .. " is on timeline " .. n.timeline end
      end
      if p.daemons and d ~= "running" then problems[#problems + 1] = "keeld on " .. n.name .. " is " .. d end
    end
  end
  print("slots: " .. (#slots > 0 and table.concat(slots, ", ") or "none"))
  return #nodes .. " nodes"
end)

keel.step("check", function()
  if #problems > 0 then return false, table.concat(problems, "; ") end
  return "healthy"
end)
