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
  vitrine token create --user NAME [--data-dir DIR]   print a new token for NAME (created if missing)
  vitrine token list [--data-dir DIR]                 list tokens (never their secret)
  vitrine token revoke ID [--data-dir DIR]            revoke the token with this ID
`

func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprint(stderr, tokenUsage)
		return errUsage
	}
	sub := args[0]
	var user string
	cfg, fs, err := loadConfig("token "+sub, args[1:], getenv, stderr, dataOnly, func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&user, "user", "", "name of the user the token acts as")
		}
	})
	if err != nil {
		return err
	}
	var revokeID int64
	switch sub {
	case "create":
		if err := vitrine.CheckText(user, 150); user == "" || err != nil {
			return fmt.Errorf("token create: --user NAME is required (at most 150 characters)")
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
		if _, err := db.CreateToken(ctx, user, hash, token[:len(vitrine.TokenPrefix)+6]); err != nil {
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
	fmt.Fprintln(tw, "ID\tUSER\tTOKEN\tCREATED\tLAST USED\tREVOKED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%s\t%s...\t%s\t%s\t%s\n", t.ID, t.User, t.Hint,
			t.CreatedAt.Format(time.RFC3339), orDash(t.LastUsedAt), orDash(t.RevokedAt))
	}
	return tw.Flush()
}

func orDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
