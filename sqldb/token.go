package sqldb

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"time"

	"github.com/vitrine/vitrine"
)

// CreateToken stores the hash of a new token for the named user, creating
// the user if missing, and returns the token's id.
func (d *DB) CreateToken(ctx context.Context, user string, hash []byte, hint string) (int64, error) {
	var id int64
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		var userID int64
		err := tx.QueryRowContext(ctx, d.q(`SELECT id FROM users WHERE name = ?`), user).Scan(&userID)
		if err == sql.ErrNoRows {
			err = tx.QueryRowContext(ctx, d.q(`INSERT INTO users (name, created_at) VALUES (?, ?) RETURNING id`), user, now).Scan(&userID)
		}
		if err != nil {
			return fmt.Errorf("create token: user %s: %w", user, err)
		}
		err = tx.QueryRowContext(ctx, d.q(`INSERT INTO tokens (user_id, hash, hint, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
			userID, hash, hint, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return nil
	})
	return id, err
}

// VerifyToken returns the user of the live (not revoked) token with this
// hash, or an Unauthorized error.
func (d *DB) VerifyToken(ctx context.Context, hash []byte) (string, error) {
	var user string
	var stored []byte
	err := d.pool.Read.QueryRowContext(ctx, d.q(`SELECT u.name, t.hash FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.revoked_at IS NULL`), hash).Scan(&user, &stored)
	// The lookup is by hash, so its timing reveals nothing about the token;
	// the constant-time compare is a second, independent check.
	if err == nil && subtle.ConstantTimeCompare(stored, hash) != 1 {
		err = sql.ErrNoRows
	}
	if err == sql.ErrNoRows {
		return "", &vitrine.Error{Kind: vitrine.Unauthorized, Message: "Invalid token.", Err: err}
	}
	if err != nil {
		return "", fmt.Errorf("verify token: %w", err)
	}
	return user, nil
}

// Tokens lists every token, newest first, without secrets.
func (d *DB) Tokens(ctx context.Context) ([]vitrine.Token, error) {
	rows, err := d.pool.Read.QueryContext(ctx, `SELECT t.id, u.name, t.hint, t.created_at, t.last_used_at, t.revoked_at
		FROM tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []vitrine.Token
	for rows.Next() {
		var t vitrine.Token
		var used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.User, &t.Hint, &t.CreatedAt, &used, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt = t.CreatedAt.UTC()
		t.LastUsedAt, t.RevokedAt = nullTime(used), nullTime(revoked)
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
