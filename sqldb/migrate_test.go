package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

	want := migrationVersions(t, "sqlite")
	applied, err := sqldb.Migrate(ctx, pool, nil)
	if err != nil || !slices.Equal(applied, want) {
		t.Fatalf("first Migrate: got %v, %v, want %v, nil", applied, err, want)
	}
	applied, err = sqldb.Migrate(ctx, pool, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate: got %v, %v, want [], nil", applied, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM vitrine_migrations`); n != len(want) {
		t.Errorf("vitrine_migrations rows: got %d, want %d", n, len(want))
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
	if want := migrationVersions(t, "sqlite"); !slices.Equal(all, want) {
		t.Errorf("applied in all: got %v, want %v once each", all, want)
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
	// The lock lets one node apply the whole set and the other none, so
	// together they applied each version exactly once.
	all := append(append([]int{}, applied[0]...), applied[1]...)
	slices.Sort(all)
	want := migrationVersions(t, "postgres")
	if !slices.Equal(all, want) || (len(applied[0]) > 0 && len(applied[1]) > 0) {
		t.Fatalf("got %v and %v, want one node to apply %v and the other none", applied[0], applied[1], want)
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

// migrationVersions lists the versions of the dialect's migration files, as
// the files on disk number them, so the tests do not trust Migrate's own
// reading of the embedded set.
func migrationVersions(t *testing.T, dialect string) []int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			t.Fatalf("migration file %s: %v", e.Name(), err)
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions
}
