-- rejoin.lua: bring a failed primary (or any stopped node) back as a standby of the current primary,
-- with pg_rewind when its timeline diverged.
--
--   keel -f /etc/keel.conf run scripts/playbooks/rejoin.lua node=ID [force_rewind=true|false]
--        [config_files=a.conf,b.conf] [timeout=SECONDS] [--dry-run] [--yes] [--json]
--
-- Arguments: node (required) the node to rejoin; force_rewind (default true) run pg_rewind when needed;
-- config_files (default none) files to keep across pg_rewind; timeout (default 120) seconds to wait for
-- it to stream. Run it with the configuration of a running node (the metadata is read there).
-- Steps: gate (another node runs as primary, and the node itself is not running as one), `keel node rejoin`
-- on the node, then wait until it streams from the primary.
local p = keel.params{ node = keel.required, force_rewind = true, config_files = "", timeout = 120 }
local id = tonumber(p.node)

local function primary()
  for _, n in ipairs(keel.nodes()) do
    if n.id ~= id and n.type ~= "witness" and n.status == "running" and n.is_in_recovery == false then return n end
  end
end

keel.step("gate: another node is the running primary", function()
  local n = keel.node_by_id(id)
  if not n then return false, "no node with ID " .. p.node end
  if n.status == "running" and n.is_in_recovery == false then return false, n.name .. " still runs as a primary: stop it first" end
  local pr = primary()
  if not pr then return false, "no running primary to rejoin" end
  return "primary is " .. pr.name
end)

keel.step("rejoin node " .. p.node, function()
  local files = {}
  for f in p.config_files:gmatch("[^,]+") do files[#files + 1] = f end
  keel.rejoin(id, { force_rewind = p.force_rewind, config_files = files })
end)

keel.step("node " .. p.node .. " streams from the primary", function()
  keel.wait_for(function()
    local pr, n = primary(), keel.node_by_id(id)
    if not pr or not n or n.status ~= "running" or not n.is_in_recovery then return false end
    return #keel.query(pr.id, "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", n.name) > 0
  end, { timeout = p.timeout, what = "node " .. p.node .. " to stream" })
end)
