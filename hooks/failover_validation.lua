-- Keel sample hook: failover validation.
--
--   failover_validation_command = 'lua:/etc/keel/hooks/failover_validation.lua#validate'
--
-- keeld calls validate(ctx) on the standby that won the election, before it promotes itself.
-- Return true to allow the promotion, or false and a reason to veto it (keeld logs the reason and
-- reruns the election after election_rerun_interval). An error or a timeout is a veto too.
--
-- ctx = { node_id, node_name, visible, total, shared_upstream, lsn, term, lag_bytes,
--         candidates = { { node_id, node_name, lsn, priority, location, lag_bytes }, ... } }
-- visible: nodes of shared_upstream that this node can see (itself included), the counts keeld logs as
-- "N of M nodes sharing upstream ... visible"; total: every registered node, the lost primary included.
-- lag_bytes: bytes behind the most advanced node visible in the election.

local MAX_LAG_BYTES = 16 * 1024 * 1024  -- veto when this node is further behind than this
local MIN_VISIBLE = 2                   -- veto when fewer nodes than this (this one included) are visible

function validate(ctx)
  if ctx.visible < MIN_VISIBLE then
    return false, string.format("only %d of %d nodes sharing the upstream visible (at least %d required)",
                                ctx.visible, ctx.shared_upstream, MIN_VISIBLE)
  end
  local lag = ctx.lag_bytes
  for _, candidate in ipairs(ctx.candidates or {}) do
    if candidate.node_id == ctx.node_id and candidate.lag_bytes then lag = candidate.lag_bytes end
  end
  if lag and lag > MAX_LAG_BYTES then
    return false, string.format("node %q is %d bytes behind (at most %d allowed)", ctx.node_name, lag, MAX_LAG_BYTES)
  end
  keel.log.info(string.format("allowing the promotion of node %q (ID: %d) for term %d: %d of %d nodes sharing the upstream visible, lag %d bytes",
                              ctx.node_name, ctx.node_id, ctx.term, ctx.visible, ctx.shared_upstream, lag or 0))
  return true
end
