-- failover-drill.lua: FOR SANDBOXES: crash the primary, watch keeld fail over, report how long it took
-- and the events recorded.
--
--   keel -f /etc/keel.conf run scripts/playbooks/failover-drill.lua sandbox=true [signal=QUIT|KILL]
--        [timeout=SECONDS] [--dry-run] [--yes] [--json]
--
-- Arguments: sandbox (default false) must be true: the drill really crashes the primary; signal (default
-- QUIT: PostgreSQL's immediate shutdown, a crash without leftover backends) sent to the postmaster;
-- timeout (default 120) seconds to wait for the new primary. Needs keeld running on every node and the
-- primary's data directory readable here (a sandbox on one machine).
-- Steps: gates (sandbox=true, keeld running everywhere), crash the primary, wait for a new primary,
-- report the failover time (crash to the new primary's promotion event) and the events since the crash.
-- Afterwards bring the old primary back with rejoin.lua.
local p = keel.params{ sandbox = false, signal = "QUIT", timeout = 120 }
local old, crashed_at, new

keel.step("gate: sandbox=true", function()
  if not p.sandbox then return false, "this drill crashes the primary: run it on a sandbox with sandbox=true" end
end)

keel.step("gate: a primary, and keeld running on every active node", function()
  for _, n in ipairs(keel.nodes()) do
    if n.type ~= "witness" and n.is_in_recovery == false then old = n end
  end
  if not old then return false, "no running primary" end
  local rows = keel.query(old.id, [[SELECT n.node_name FROM repmgr.nodes n LEFT JOIN repmgr.keel_daemon d USING (node_id)
                                    WHERE n.active AND (d.last_heartbeat IS NULL OR d.last_heartbeat < now() - interval '30 seconds')]])
  if #rows > 0 then return false, "keeld not running on " .. rows[1].node_name end
  return "primary is " .. old.name
end)

keel.step("crash the primary", function()
  local r = keel.query(old.id, "SELECT current_setting('data_directory') AS dir, extract(epoch FROM clock_timestamp())::float8 AS now")[1]
  crashed_at = r.now
  local f = assert(io.open(r.dir .. "/postmaster.pid"))
  local pid = f:read("l")
  f:close()
  local sh = keel.shell("kill -" .. p.signal .. " " .. pid)
  if sh.code ~= 0 then return false, "kill failed: " .. sh.stderr end
  if keel.dry_run then return "dry run: would send SIG" .. p.signal .. " to " .. old.name .. " (pid " .. pid .. ")" end
  return old.name .. " (pid " .. pid .. ") sent SIG" .. p.signal
end)

keel.step("wait for a new primary", function()
  keel.wait_for(function()
    for _, n in ipairs(keel.nodes()) do
      if n.id ~= old.id and n.type ~= "witness" and n.status == "running" and n.is_in_recovery == false then new = n; return true end
    end
    return false
  end, { timeout = p.timeout, interval = 0.5, what = "keeld to promote a standby" })
  if new then return new.name .. " is the new primary" end
end)

keel.step("report", function()
  if not new then return "dry run: no failover to report" end
  -- keeld records the promotion event just after the server leaves recovery.
  keel.wait_for(function()
    return #keel.query(new.id, "SELECT 1 FROM repmgr.events WHERE event = 'repmgrd_failover_promote' AND event_timestamp >= to_timestamp($1)", crashed_at) > 0
  end, { timeout = 30, interval = 0.5, what = "the repmgrd_failover_promote event" })
  local events = keel.query(new.id, [[SELECT node_id, event, successful, extract(epoch FROM event_timestamp)::float8 AS at, details
                                      FROM repmgr.events WHERE event_timestamp >= to_timestamp($1) ORDER BY event_timestamp, node_id]], crashed_at)
  local promoted
  for _, e in ipairs(events) do
    print(string.format("  +%6.2f s  node %d  %-28s %s  %s", e.at - crashed_at, e.node_id, e.event, e.successful and "ok" or "FAILED", e.details or ""))
    if not promoted and e.event == "repmgrd_failover_promote" then promoted = e.at end
  end
  if not promoted then return false, "no repmgrd_failover_promote event on " .. new.name end
  return string.format("failover took %.2f s (crash to promotion), %d events", promoted - crashed_at, #events)
end)
