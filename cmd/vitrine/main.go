// Command vitrine runs the product-image service and its administration
// commands:
//
//	vitrine serve [--addr HOST:PORT] [--data-dir DIR]   the HTTP API and the workers
//	vitrine migrate [--data-dir DIR]                    apply database migrations
//	vitrine token create --user NAME [--data-dir DIR]   print a new API token
//	vitrine token list [--data-dir DIR]
//	vitrine token revoke ID [--data-dir DIR]
//	vitrine work [flags]                                workers only, no HTTP
//	vitrine reprocess [--rendition NAME] [--product SLUG] [--missing-only]
//	vitrine sweep [--dry-run] [--grace 1h]
//
// Every flag also reads a VITRINE_* environment variable; a flag beats the
// variable, which beats the default. "vitrine help" lists them all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vitrine/vitrine/vips"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	vips.Shutdown()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vitrine:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `vitrine runs the image side of an e-commerce catalog.

Usage:
  vitrine serve [--addr HOST:PORT] [--data-dir DIR] [flags]   run the API and the workers
  vitrine migrate [--data-dir DIR]                            apply database migrations
  vitrine token create --user NAME [--data-dir DIR]           create an API token (printed on stdout)
  vitrine token list [--data-dir DIR]                         list tokens
  vitrine token revoke ID [--data-dir DIR]                    revoke a token
  vitrine work [--data-dir DIR] [flags]                       run the workers only (no HTTP), for a worker tier
  vitrine reprocess [--rendition NAME] [--product SLUG] [--missing-only]
                                                              re-render after the rendition set changed
  vitrine sweep [--dry-run] [--grace 1h]                      delete stored files no row refers to

Run "vitrine serve --help" for every setting and its VITRINE_* variable.
`

// run is the whole program; tests call it like main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return runToken(ctx, args[1:], getenv, stdout, stderr)
	case "reprocess":
		return runReprocess(ctx, args[1:], getenv, stdout, stderr)
	case "work":
		return runWork(ctx, args[1:], getenv, stderr)
	case "sweep":
		return runSweep(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "vitrine: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
