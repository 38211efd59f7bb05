-- Token scopes (read, write, admin) and expiry.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write';
ALTER TABLE tokens ADD COLUMN expires_at TIMESTAMPTZ;
