-- Publishable keys (docs/widget.md): `kind` is 'secret' (a `ce_` key, server side) or
-- 'publishable' (a `pk_` key, for a web page's chat widget). A publishable key has `origins`, a JSON
-- array of the page origins it works from, and `visitor_limits`, JSON { requestsPerMinute, burst }:
-- each visitor's own request rate. Both are NULL for a secret key.
ALTER TABLE api_keys ADD COLUMN kind TEXT NOT NULL DEFAULT 'secret';
ALTER TABLE api_keys ADD COLUMN origins TEXT;
ALTER TABLE api_keys ADD COLUMN visitor_limits TEXT;
