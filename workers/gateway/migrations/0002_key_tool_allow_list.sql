-- A key's tool allow-list: a comma-separated list of tool names it may list and call; NULL means
-- every tool the tenant offers (the key still needs the `tools` scope).
ALTER TABLE api_keys ADD COLUMN tools TEXT;
