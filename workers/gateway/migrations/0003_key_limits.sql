-- A key's own limits, as JSON (shared/contracts KeyLimitsSchema: requestsPerMinute, burst,
-- tokensPerMinute, dailyTokens, monthlyTokens, dailyUsd, monthlyUsd); NULL means the tenant's
-- per-key rate and the tenant's budgets only. Each is at most the tenant's (checked when set).
ALTER TABLE api_keys ADD COLUMN limits TEXT;
