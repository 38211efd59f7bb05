package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	pool, db, clk := open(t)
	ctx := context.Background()

	type token struct {
		user, hint string
		hash       []byte
		id         int64
		created    time.Time
	}
	tokens := []*token{{user: "alice"}, {user: "alice"}, {user: "bob"}}
	for _, tk := range tokens {
		secret, hash := vitrine.NewToken()
		tk.hash, tk.hint, tk.created = hash, secret[:8], stored(clk.Now())
		id, err := db.CreateToken(ctx, tk.user, tk.hash, tk.hint)
		if err != nil {
			t.Fatalf("CreateToken(%s): got %v, want nil", tk.user, err)
		}
		tk.id = id
		clk.Advance(time.Minute)
	}
	if n := count(t, pool, `SELECT count(*) FROM users`); n != 2 {
		t.Errorf("users: got %d, want 2 (alice's tokens share her)", n)
	}

	revokedAt := stored(clk.Now())
	if err := db.RevokeToken(ctx, tokens[1].id); err != nil {
		t.Fatalf("RevokeToken: got %v, want nil", err)
	}
	// Revoking again is fine and keeps the first time.
	clk.Advance(time.Hour)
	if err := db.RevokeToken(ctx, tokens[1].id); err != nil {
		t.Fatalf("second RevokeToken: got %v, want nil", err)
	}
	err := db.RevokeToken(ctx, tokens[2].id+1)
	wantKind(t, err, vitrine.NotFound)

	t.Run("verify", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name     string
			hash     []byte
			wantUser string // "" for Unauthorized
		}{
			{"alice", tokens[0].hash, "alice"},
			{"bob", tokens[2].hash, "bob"},
			{"revoked", tokens[1].hash, ""},
			{"wrong", vitrine.HashToken("vt_wrong"), ""},
			{"truncated hash", tokens[0].hash[:31], ""},
			{"empty", nil, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				user, err := db.VerifyToken(ctx, tt.hash)
				if tt.wantUser == "" {
					wantKind(t, err, vitrine.Unauthorized)
					return
				}
				if err != nil || user != tt.wantUser {
					t.Errorf("got %q, %v, want %q, nil", user, err, tt.wantUser)
				}
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		t.Parallel()
		got, err := db.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tokens) {
			t.Fatalf("Tokens: got %d, want %d", len(got), len(tokens))
		}
		for i, g := range got {
			want := tokens[len(tokens)-1-i] // newest first
			if g.ID != want.id || g.User != want.user || g.Hint != want.hint || !g.CreatedAt.Equal(want.created) || g.LastUsedAt != nil {
				t.Errorf("token %d: got %+v, want id %d, user %s, hint %s, created %v, never used", i, g, want.id, want.user, want.hint, want.created)
			}
			switch {
			case want == tokens[1] && (g.RevokedAt == nil || !g.RevokedAt.Equal(revokedAt)):
				t.Errorf("token %d: RevokedAt: got %v, want %v", i, g.RevokedAt, revokedAt)
			case want != tokens[1] && g.RevokedAt != nil:
				t.Errorf("token %d: RevokedAt: got %v, want nil", i, g.RevokedAt)
			}
		}
	})
}

// TestTokensUTC checks that token times come back in UTC, like every other
// time the store returns.
func TestTokensUTC(t *testing.T) {
	t.Parallel()
	_, db, _ := open(t)
	ctx := context.Background()
	_, hash := vitrine.NewToken()
	id, err := db.CreateToken(ctx, "alice", hash, "vt_x")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	ts, err := db.Tokens(ctx)
	if err != nil || len(ts) != 1 {
		t.Fatalf("Tokens: got %v, %v, want one token", ts, err)
	}
	wantTime(t, "CreatedAt", ts[0].CreatedAt, stored(start))
	wantTime(t, "RevokedAt", *ts[0].RevokedAt, stored(start))
}
