package sqldb_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/vitrine/vitrine/sqldb"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	applied, err := sqldb.Migrate(ctx, pool)
	if err != nil || !slices.Equal(applied, []int{1}) {
		t.Fatalf("first Migrate: got %v, %v, want [1], nil", applied, err)
	}
	applied, err = sqldb.Migrate(ctx, pool)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate: got %v, %v, want [], nil", applied, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM vitrine_migrations`); n != 1 {
		t.Errorf("vitrine_migrations rows: got %d, want 1", n)
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
		pool, err := sqldb.Open(ctx, "sqlite:"+path)
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
		wg.Go(func() { applied[i], errs[i] = sqldb.Migrate(ctx, pool) })
	}
	wg.Wait()
	var all []int
	for i := range pools {
		if errs[i] != nil {
			t.Errorf("Migrate %d: got %v, want nil", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	if !slices.Equal(all, []int{1}) {
		t.Errorf("applied in all: got %v, want [1]", all)
	}
}
