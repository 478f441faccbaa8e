-- Keel sample hook: follow a new upstream.
--
--   follow_command = 'lua:/etc/keel/hooks/follow.lua#follow'
--
-- keeld calls follow(ctx) on the standbys that lost the election, once the winner runs as primary.
-- The hook points this standby's primary_conninfo at the new upstream (creating its replication
-- slot there when this node uses one), reloads, and waits until the WAL receiver streams from it.
-- Return true (or false and a reason); keeld then records the new upstream in repmgr.nodes and
-- event standby_follow. The hook's budget is the larger of lua_hook_timeout and standby_follow_timeout.
-- Passwords are not in conninfo strings Lua sees (they are masked): use a ~/.pgpass file.
-- Unlike "keel standby follow", this hook does not check timelines: a standby that has WAL past the
-- new primary's fork point will not stream (rejoin it with "keel node rejoin --force-rewind").
--
-- ctx = { node_id, node_name, upstream_id (the node to follow), upstream_name, upstream_conninfo,
--         former_upstream_id }

local REPLICATION_USER = nil  -- nil = the user of this node's conninfo
local WAIT_SECONDS = 20       -- how long to wait for streaming

local function setting(conninfo, key)
  return conninfo:match("%f[%w_]" .. key .. "='([^']*)'") or conninfo:match("%f[%w_]" .. key .. "=([^%s]+)")
end

local function literal(text)
  return "'" .. text:gsub("'", "''") .. "'"
end

function follow(ctx)
  local upstream = keel.node_by_id(ctx.upstream_id)
  if not upstream then return false, "node " .. ctx.upstream_id .. " is not registered" end
  if upstream.status ~= "running" then return false, string.format("node %q is not reachable", upstream.name) end
  local me = keel.node
  local host = setting(upstream.conninfo, "host") or "localhost"
  local port = setting(upstream.conninfo, "port") or "5432"
  local user = REPLICATION_USER or setting(me.conninfo, "user") or "postgres"
  local conninfo = string.format("host=%s port=%s user=%s application_name=%s", host, port, user, me.name)

  local slot = keel.query(me.id, "SELECT pg_catalog.current_setting('primary_slot_name') AS slot")[1].slot or ""
  if slot ~= "" then
    local exists = keel.query(upstream.id, "SELECT 1 AS x FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", slot)
    if #exists == 0 then
      keel.exec(upstream.id, "SELECT pg_catalog.pg_create_physical_replication_slot($1)", slot)
      keel.log.info(string.format("replication slot %q created on node %q", slot, upstream.name))
    end
  end

  -- ALTER SYSTEM takes no parameters: the value is quoted as a literal.
  keel.exec(me.id, "ALTER SYSTEM SET primary_conninfo = " .. literal(conninfo))
  keel.exec(me.id, "SELECT pg_catalog.pg_reload_conf()")
  if keel.dry_run then return true end  -- keel hook test --dry-run: the statements were only logged
  keel.log.info(string.format("primary_conninfo now points to node %q (ID: %d); waiting for streaming", upstream.name, upstream.id))

  for _ = 1, WAIT_SECONDS * 4 do
    local receiver = keel.query(me.id, "SELECT status, sender_port FROM pg_catalog.pg_stat_wal_receiver")[1]
    if receiver and receiver.status == "streaming" and tostring(receiver.sender_port) == port then
      return true
    end
    keel.sleep(0.25)
  end
  return false, string.format("not streaming from node %q after %d s", upstream.name, WAIT_SECONDS)
end
