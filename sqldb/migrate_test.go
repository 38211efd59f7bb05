package sqldb_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"), sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	applied, err := sqldb.Migrate(ctx, pool, nil)
	if err != nil || !slices.Equal(applied, []int{1, 2}) {
		t.Fatalf("first Migrate: got %v, %v, want [1 2], nil", applied, err)
	}
	applied, err = sqldb.Migrate(ctx, pool, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate: got %v, %v, want [], nil", applied, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM vitrine_migrations`); n != 2 {
		t.Errorf("vitrine_migrations rows: got %d, want 2", n)
	}
	for _, name := range []string{"users", "tokens", "products", "images", "renditions", "images_one_primary"} {
		if n := count(t, pool, `SELECT count(*) FROM sqlite_master WHERE name = ?`, name); n != 1 {
			t.Errorf("schema object %s: got %d, want 1", name, n)
		}
	}
}

// TestMigrateConcurrent runs Migrate from two pools (as two processes
// would) on one new database: each migration is applied once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	pools := make([]*sqldb.Pool, 2)
	for i := range pools {
		pool, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		pools[i] = pool
	}
	applied := make([][]int, len(pools))
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Go(func() { applied[i], errs[i] = sqldb.Migrate(ctx, pool, nil) })
	}
	wg.Wait()
	var all []int
	for i := range pools {
		if errs[i] != nil {
			t.Errorf("Migrate %d: got %v, want nil", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []int{1, 2}) {
		t.Errorf("applied in all: got %v, want [1 2] once each", all)
	}
}

// TestMigratePostgresConcurrently runs two nodes' migrations, vitrine's and
// River's, at the same moment against one PostgreSQL schema: the advisory
// lock makes one wait for the other, and both succeed.
func TestMigratePostgresConcurrently(t *testing.T) {
	t.Parallel()
	dsn := sqldbtest.DSN(t)
	if !sqldb.IsPostgres(dsn) {
		t.Skip("PostgreSQL only: set " + sqldbtest.PostgresEnv)
	}
	ctx := context.Background()
	var pools [2]*sqldb.Pool
	for i := range pools {
		p, err := sqldb.Open(ctx, dsn, sqldb.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		pools[i] = p
	}
	var applied [2][]int
	var errs [2]error
	var wg sync.WaitGroup
	for i, p := range pools {
		wg.Go(func() {
			applied[i], errs[i] = sqldb.Migrate(ctx, p, func(ctx context.Context) error {
				_, err := jobs.Migrate(ctx, p.Write, "postgres")
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if len(applied[0])+len(applied[1]) != 1 || len(applied[0]) > 1 || len(applied[1]) > 1 {
		t.Fatalf("got %v and %v, want version 1 applied exactly once", applied[0], applied[1])
	}
}

// TestStatementTimeout checks that PostgreSQL cancels a statement running
// longer than the configured timeout.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	dsn := sqldbtest.DSN(t)
	if !sqldb.IsPostgres(dsn) {
		t.Skip("PostgreSQL only: set " + sqldbtest.PostgresEnv)
	}
	p, err := sqldb.Open(context.Background(), dsn, sqldb.Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Write.Exec(`SELECT pg_sleep(2)`)
	if err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("got %v, want a statement timeout", err)
	}
}
