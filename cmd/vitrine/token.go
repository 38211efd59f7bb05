package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/vitrine/vitrine"
)

const tokenUsage = `Usage:
  vitrine token create --user NAME [--scope read|write|admin] [--expires 720h|2027-12-31]
                                      print a new token for NAME (created if missing);
                                      scope write by default, no expiry by default
  vitrine token list                  list tokens (never their secret)
  vitrine token revoke ID             revoke the token with this ID
Each takes --data-dir DIR or --database-url URL to find the database.
`

func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprint(stderr, tokenUsage)
		return errUsage
	}
	sub := args[0]
	var user, scope, expires string
	cfg, fs, err := loadConfig("token "+sub, args[1:], getenv, stderr, dataOnly, func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&user, "user", "", "name of the user the token acts as")
			fs.StringVar(&scope, "scope", "write", "read (GET only), write (the whole API) or admin (write, without rate limits)")
			fs.StringVar(&expires, "expires", "", "lifetime (720h) or last day (2027-12-31, UTC); default: never")
		}
	})
	if err != nil {
		return err
	}
	var revokeID int64
	var newToken vitrine.Token
	switch sub {
	case "create":
		if err := vitrine.CheckText(user, 150); user == "" || err != nil {
			return fmt.Errorf("token create: --user NAME is required (at most 150 characters)")
		}
		sc, err := vitrine.ParseScope(scope)
		if err != nil {
			return fmt.Errorf("token create: --scope: %w", err)
		}
		newToken = vitrine.Token{User: user, Scope: sc}
		if expires != "" {
			at, err := parseExpiry(expires, time.Now())
			if err != nil {
				return fmt.Errorf("token create: --expires: %w", err)
			}
			newToken.ExpiresAt = &at
		}
	case "revoke":
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if fs.NArg() != 1 || err != nil {
			return fmt.Errorf("token revoke: want one token ID (see vitrine token list)")
		}
		revokeID = id
	}
	pool, db, _, err := openStore(ctx, cfg, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer pool.Close()
	switch sub {
	case "create":
		token, hash := vitrine.NewToken()
		newToken.Hint = token[:len(vitrine.TokenPrefix)+6]
		if _, err := db.CreateToken(ctx, newToken, hash); err != nil {
			return err
		}
		fmt.Fprintln(stdout, token)
		return nil
	case "revoke":
		if err := db.RevokeToken(ctx, revokeID); err != nil {
			return fmt.Errorf("token revoke %d: %w", revokeID, err)
		}
		fmt.Fprintf(stdout, "revoked token %d\n", revokeID)
		return nil
	}
	ts, err := db.Tokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tSCOPE\tTOKEN\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s...\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Scope, t.Hint,
			t.CreatedAt.Format(time.RFC3339), orDash(t.ExpiresAt), orDash(t.LastUsedAt), orDash(t.RevokedAt))
	}
	return tw.Flush()
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// parseExpiry reads --expires: a lifetime from now (720h), or the last
// day the token works (2027-12-31, through its end in UTC).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q is not a positive duration", s)
		}
		return now.Add(d), nil
	}
	day, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (720h) nor a date (2027-12-31)", s)
	}
	end := day.AddDate(0, 0, 1)
	if !end.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the past", s)
	}
	return end, nil
}
