-- Keel sample hook: event notifications as JSON lines.
--
--   event_notification_command = 'lua:/etc/keel/hooks/notify.lua'
--
-- Called for every event keel or keeld records (off keeld's monitoring loop, through its bounded
-- queue), with the event table; the return value is ignored.
--
-- event = { node_id, node_name, event, success, timestamp, details,
--           primary_id, primary_name, conninfo (masked) }   -- the last three as repmgr's %p %a %c

local LOG_FILE = "/var/log/keel/events.jsonl"  -- one JSON object per line, appended
local ONLY = {}                                -- event names to keep, e.g. { "repmgrd_failover_promote" }; {} = all

local wanted = {}
for _, name in ipairs(ONLY) do wanted[name] = true end

return function(event)
  if next(wanted) ~= nil and not wanted[event.event] then return end
  local file, err = io.open(LOG_FILE, "a")
  if not file then
    keel.log.warn("cannot append to " .. LOG_FILE .. ": " .. tostring(err))
    return
  end
  file:write(keel.json.encode(event), "\n")
  file:close()
end
