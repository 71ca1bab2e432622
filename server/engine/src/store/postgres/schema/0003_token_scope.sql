-- What an API token may be used for: the HTTP API, the SMTP listener, or both (tokens made
-- before: both).
ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'both' CHECK (scope IN ('both', 'api', 'smtp'));
