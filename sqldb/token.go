package sqldb

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"time"

	"github.com/vitrine/vitrine"
)

// CreateToken stores a new token: t's user (created if missing), hint,
// scope and expiry, under the hash of its secret. It returns the token's id.
func (d *DB) CreateToken(ctx context.Context, t vitrine.Token, hash []byte) (int64, error) {
	if _, err := vitrine.ParseScope(string(t.Scope)); err != nil {
		return 0, fmt.Errorf("create token: %w", err)
	}
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		var userID int64
		err := tx.QueryRowContext(ctx, d.q(`SELECT id FROM users WHERE name = ?`), t.User).Scan(&userID)
		if err == sql.ErrNoRows {
			err = tx.QueryRowContext(ctx, d.q(`INSERT INTO users (name, created_at) VALUES (?, ?) RETURNING id`), t.User, now).Scan(&userID)
		}
		if err != nil {
			return fmt.Errorf("create token: user %s: %w", t.User, err)
		}
		var expires any
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.UTC().Truncate(time.Microsecond)
		}
		err = tx.QueryRowContext(ctx, d.q(`INSERT INTO tokens (user_id, hash, hint, scope, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), userID, hash, t.Hint, string(t.Scope), expires, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return nil
	})
	return id, err
}

// lastUsedEvery is how stale a token's last_used_at may get: recording
// every use would turn each authenticated read into a write.
const lastUsedEvery = time.Minute

// VerifyToken returns who holds the live (not revoked, not expired) token
// with this hash, or an Unauthorized error. It records the token's use at
// most once a minute.
func (d *DB) VerifyToken(ctx context.Context, hash []byte) (vitrine.Caller, error) {
	var c vitrine.Caller
	var stored []byte
	var scope string
	var expires, used sql.NullTime
	err := d.pool.Read.QueryRowContext(ctx, d.q(`SELECT t.id, u.name, t.hash, t.scope, t.expires_at, t.last_used_at
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`), hash).Scan(&c.TokenID, &c.User, &stored, &scope, &expires, &used)
	// The lookup is by hash, so its timing reveals nothing about the token;
	// the constant-time compare is a second, independent check.
	if err == nil && subtle.ConstantTimeCompare(stored, hash) != 1 {
		err = sql.ErrNoRows
	}
	if err == sql.ErrNoRows {
		return vitrine.Caller{}, &vitrine.Error{Kind: vitrine.Unauthorized, Message: "Invalid token.", Err: err}
	}
	if err != nil {
		return vitrine.Caller{}, fmt.Errorf("verify token: %w", err)
	}
	now := d.now()
	if expires.Valid && !now.Before(expires.Time) {
		return vitrine.Caller{}, vitrine.Errorf(vitrine.Unauthorized, "Token has expired.")
	}
	if c.Scope, err = vitrine.ParseScope(scope); err != nil {
		return vitrine.Caller{}, fmt.Errorf("verify token %d: %w", c.TokenID, err)
	}
	if !used.Valid || now.Sub(used.Time) >= lastUsedEvery {
		// last_used_at is advisory: if this write fails (say the database
		// is busy), the request goes on and the next use records it.
		d.pool.Write.ExecContext(ctx, d.q(`UPDATE tokens SET last_used_at = ? WHERE id = ?`), now, c.TokenID)
	}
	return c, nil
}

// Tokens lists every token, newest first, without secrets.
func (d *DB) Tokens(ctx context.Context) ([]vitrine.Token, error) {
	rows, err := d.pool.Read.QueryContext(ctx, `SELECT t.id, u.name, t.hint, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
		FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []vitrine.Token
	for rows.Next() {
		var t vitrine.Token
		var scope string
		var expires, used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.User, &t.Hint, &scope, &t.CreatedAt, &expires, &used, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.Scope = vitrine.Scope(scope)
		t.CreatedAt = t.CreatedAt.UTC()
		t.ExpiresAt, t.LastUsedAt, t.RevokedAt = nullTime(expires), nullTime(used), nullTime(revoked)
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// RevokeToken revokes the token with this id. NotFound if there is none;
// revoking twice is not an error.
func (d *DB) RevokeToken(ctx context.Context, id int64) error {
	res, err := d.pool.Write.ExecContext(ctx, d.q(`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`), d.now(), id)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound(sql.ErrNoRows, fmt.Sprintf("token %d", id))
	}
	return nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
