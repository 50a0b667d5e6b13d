-- One token system for the whole server: a token now also says whose it is (the hub's user, author of its
-- commits), which hub namespaces it may write to and read privately ('*': all, else a comma-separated list),
-- and when it was revoked (a revoked token is kept, so `pricer token list` still shows it).
ALTER TABLE tokens ADD COLUMN owner VARCHAR(200) NOT NULL DEFAULT 'pricer';
ALTER TABLE tokens ADD COLUMN namespaces VARCHAR(2000) NOT NULL DEFAULT '*';
ALTER TABLE tokens ADD COLUMN revoked_ms BIGINT;
