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
		scope      vitrine.Scope
		hash       []byte
		id         int64
		created    time.Time
	}
	tokens := []*token{{user: "alice", scope: vitrine.ScopeWrite}, {user: "alice", scope: vitrine.ScopeAdmin}, {user: "bob", scope: vitrine.ScopeRead}}
	for _, tk := range tokens {
		secret, hash := vitrine.NewToken()
		tk.hash, tk.hint, tk.created = hash, secret[:8], stored(clk.Now())
		id, err := db.CreateToken(ctx, vitrine.Token{User: tk.user, Hint: tk.hint, Scope: tk.scope}, tk.hash)
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

	// Listed before any use: nothing has a LastUsedAt yet.
	t.Run("list", func(t *testing.T) {
		got, err := db.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tokens) {
			t.Fatalf("Tokens: got %d, want %d", len(got), len(tokens))
		}
		for i, g := range got {
			want := tokens[len(tokens)-1-i] // newest first
			if g.ID != want.id || g.User != want.user || g.Hint != want.hint || g.Scope != want.scope || !g.CreatedAt.Equal(want.created) || g.LastUsedAt != nil {
				t.Errorf("token %d: got %+v, want id %d, user %s, hint %s, scope %s, created %v, never used", i, g, want.id, want.user, want.hint, want.scope, want.created)
			}
			switch {
			case want == tokens[1] && (g.RevokedAt == nil || !g.RevokedAt.Equal(revokedAt)):
				t.Errorf("token %d: RevokedAt: got %v, want %v", i, g.RevokedAt, revokedAt)
			case want != tokens[1] && g.RevokedAt != nil:
				t.Errorf("token %d: RevokedAt: got %v, want nil", i, g.RevokedAt)
			}
		}
	})

	t.Run("verify", func(t *testing.T) {
		tests := []struct {
			name      string
			hash      []byte
			wantUser  string // "" for Unauthorized
			wantScope vitrine.Scope
		}{
			{"alice", tokens[0].hash, "alice", vitrine.ScopeWrite},
			{"bob", tokens[2].hash, "bob", vitrine.ScopeRead},
			{"revoked", tokens[1].hash, "", ""},
			{"wrong", vitrine.HashToken("vt_wrong"), "", ""},
			{"truncated hash", tokens[0].hash[:31], "", ""},
			{"empty", nil, "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c, err := db.VerifyToken(ctx, tt.hash)
				if tt.wantUser == "" {
					wantKind(t, err, vitrine.Unauthorized)
					return
				}
				if err != nil || c.User != tt.wantUser || c.Scope != tt.wantScope || c.TokenID == 0 {
					t.Errorf("got %+v, %v, want user %q scope %q, nil", c, err, tt.wantUser, tt.wantScope)
				}
			})
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
	id, err := db.CreateToken(ctx, vitrine.Token{User: "alice", Hint: "vt_x", Scope: vitrine.ScopeRead}, hash)
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

// TestTokenUse checks expiry and the throttled record of last use.
func TestTokenUse(t *testing.T) {
	t.Parallel()
	_, db, clk := open(t)
	ctx := context.Background()
	_, hash := vitrine.NewToken()
	expires := clk.Now().Add(time.Hour)
	if _, err := db.CreateToken(ctx, vitrine.Token{User: "alice", Hint: "vt_x", Scope: vitrine.ScopeWrite, ExpiresAt: &expires}, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateToken(ctx, vitrine.Token{User: "alice", Hint: "vt_y", Scope: "root"}, hash); err == nil {
		t.Error("CreateToken with scope root: got nil, want an error")
	}
	lastUsed := func() *time.Time {
		t.Helper()
		ts, err := db.Tokens(ctx)
		if err != nil || len(ts) != 1 {
			t.Fatalf("Tokens: got %v, %v, want one token", ts, err)
		}
		wantTime(t, "ExpiresAt", *ts[0].ExpiresAt, stored(expires))
		return ts[0].LastUsedAt
	}
	verify := func() {
		t.Helper()
		if _, err := db.VerifyToken(ctx, hash); err != nil {
			t.Fatalf("VerifyToken: got %v, want nil", err)
		}
	}

	first := stored(clk.Now())
	verify()
	if got := lastUsed(); got == nil || !got.Equal(first) {
		t.Fatalf("LastUsedAt after first use: got %v, want %v", got, first)
	}
	clk.Advance(30 * time.Second)
	verify()
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("LastUsedAt 30s later: got %v, want %v (recorded at most once a minute)", got, first)
	}
	clk.Advance(31 * time.Second)
	second := stored(clk.Now())
	verify()
	if got := lastUsed(); !got.Equal(second) {
		t.Errorf("LastUsedAt 61s later: got %v, want %v", got, second)
	}

	clk.Advance(time.Hour)
	_, err := db.VerifyToken(ctx, hash)
	wantKind(t, err, vitrine.Unauthorized)
}
