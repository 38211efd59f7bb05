-- vitrine's schema on SQLite. Times are stored as UTC text in SQLite's own
-- format (the driver's _time_format=sqlite) and read back as time.Time
-- because the columns are declared TIMESTAMP.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash         BLOB NOT NULL UNIQUE, -- SHA-256 of the token; the token is never stored
    hint         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

CREATE TABLE products (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    price_cents  INTEGER,
    image_key    TEXT UNIQUE,
    image_width  INTEGER,
    image_height INTEGER,
    -- name and slug lower-cased in Go (Unicode-aware, unlike SQLite's
    -- lower()), which ?search= matches against.
    search_text  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE INDEX products_by_created ON products (created_at, id);

CREATE TABLE images (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key         TEXT NOT NULL UNIQUE,
    format      TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    alt_text    TEXT NOT NULL DEFAULT '',
    caption     TEXT NOT NULL DEFAULT '',
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'pending',
    error       TEXT NOT NULL DEFAULT '',
    -- Set by rendering: ThumbHash (base64) and "#rrggbb".
    placeholder    TEXT NOT NULL DEFAULT '',
    dominant_color TEXT NOT NULL DEFAULT '',
    uploaded_at TIMESTAMP NOT NULL
);

-- At most one primary image per product, whatever the code does.
CREATE UNIQUE INDEX images_one_primary ON images (product_id) WHERE is_primary;
CREATE INDEX images_by_product ON images (product_id, sort_order, uploaded_at, id);

CREATE TABLE renditions (
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    spec     TEXT NOT NULL, -- the spec it was made from (vitrine.Spec.String)
    key      TEXT NOT NULL UNIQUE,
    format   TEXT NOT NULL,
    width    INTEGER NOT NULL,
    height   INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (image_id, name)
);
