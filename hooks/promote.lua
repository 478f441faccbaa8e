-- Keel sample hook: promotion.
--
--   promote_command = 'lua:/etc/keel/hooks/promote.lua#promote'
--
-- keeld calls promote(ctx) on the election winner. Return true once the promotion is requested (or
-- false and a reason); keeld then waits for the server to leave recovery (promote_check_timeout) and
-- records the promotion itself: this node becomes the primary in repmgr.nodes, the former primary
-- inactive, the voting term is incremented, and event standby_promote is recorded.
-- The hook's budget is the larger of lua_hook_timeout and promote_check_timeout.
--
-- ctx = { node_id, node_name, upstream_id (the lost primary), term, data_directory }

local WAIT_SECONDS = 30   -- pg_promote(wait => true) waits this long for the promotion to finish

function promote(ctx)
  -- Pre-checks on this node: it is a standby and replay is not paused.
  local state = keel.query(ctx.node_id, [[
      SELECT pg_catalog.pg_is_in_recovery() AS standby,
             pg_catalog.pg_is_wal_replay_paused() AS paused]])[1]
  if not state.standby then return false, "this node is not a standby" end
  if state.paused then return false, "WAL replay is paused on this node" end
  -- No other registered node may be running as a primary.
  for _, node in ipairs(keel.nodes()) do
    if node.id ~= ctx.node_id and node.type ~= "witness" and node.status == "running" and node.is_in_recovery == false then
      return false, string.format("node %q (ID: %d) is running as a primary", node.name, node.id)
    end
  end
  keel.log.info(string.format("promoting node %q (ID: %d) for voting term %s", ctx.node_name, ctx.node_id, tostring(ctx.term)))
  local done = keel.exec(ctx.node_id, "SELECT pg_catalog.pg_promote(true, $1) AS promoted", WAIT_SECONDS)[1]
  if keel.dry_run then return true end  -- keel hook test --dry-run: keel.exec only logged the statement
  if not (done and done.promoted) then
    return false, "pg_promote() did not complete within " .. WAIT_SECONDS .. " s"
  end
  return true
end
