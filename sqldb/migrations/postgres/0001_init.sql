-- vitrine's schema on PostgreSQL: the same tables as the SQLite schema,
-- in PostgreSQL's own types.

CREATE TABLE users (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash         BYTEA NOT NULL UNIQUE, -- SHA-256 of the token; the token is never stored
    hint         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE products (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    price_cents  BIGINT,
    image_key    TEXT UNIQUE,
    image_width  INTEGER,
    image_height INTEGER,
    -- name and slug lower-cased in Go, which ?search= matches against, so
    -- both dialects fold case the same way.
    search_text  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX products_by_created ON products (created_at, id);

CREATE TABLE images (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id     BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key            TEXT NOT NULL UNIQUE,
    format         TEXT NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    bytes          BIGINT NOT NULL,
    alt_text       TEXT NOT NULL DEFAULT '',
    caption        TEXT NOT NULL DEFAULT '',
    is_primary     BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order     INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'pending',
    error          TEXT NOT NULL DEFAULT '',
    placeholder    TEXT NOT NULL DEFAULT '',
    dominant_color TEXT NOT NULL DEFAULT '',
    uploaded_at    TIMESTAMPTZ NOT NULL
);

-- At most one primary image per product, whatever the code does.
CREATE UNIQUE INDEX images_one_primary ON images (product_id) WHERE is_primary;
CREATE INDEX images_by_product ON images (product_id, sort_order, uploaded_at, id);

CREATE TABLE renditions (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    spec     TEXT NOT NULL,
    key      TEXT NOT NULL UNIQUE,
    format   TEXT NOT NULL,
    width    INTEGER NOT NULL,
    height   INTEGER NOT NULL,
    bytes    BIGINT NOT NULL,
    PRIMARY KEY (image_id, name)
);
