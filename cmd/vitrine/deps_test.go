package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps every import pointing toward the root
// package: the root imports only the standard library, and no adapter
// imports another (only cmd/vitrine wires them together).
func TestDependencyDirection(t *testing.T) {
	t.Parallel()
	const mod = "github.com/vitrine/vitrine"
	adapters := []string{"sqldb", "blob", "vips", "jobs", "httpapi", "metrics"}
	for _, pkg := range append([]string{""}, adapters...) {
		path := strings.TrimSuffix(mod+"/"+pkg, "/")
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", path).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", path, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == path || dep == mod {
				continue
			}
			if pkg == "" {
				t.Errorf("the root package imports %s; it may use the standard library only", dep)
			}
			for _, other := range adapters {
				if other != pkg && (dep == mod+"/"+other || strings.HasPrefix(dep, mod+"/"+other+"/")) {
					t.Errorf("%s imports %s; only cmd/vitrine may join adapters", pkg, other)
				}
			}
		}
	}
}
