package main

import (
	"context"
	"fmt"
	"io"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig("migrate", args, getenv, stderr, dataOnly, nil)
	if err != nil {
		return err
	}
	pool, _, _, err := openStore(ctx, cfg, newLogger(stderr, "info"))
	if err != nil {
		return err
	}
	defer pool.Close()
	fmt.Fprintln(stdout, "database is up to date:", redact(cfg.DatabaseDSN()))
	return nil
}
