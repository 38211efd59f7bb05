package httpapi

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// openAPIMethods are the keys of an OpenAPI path item that are operations.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func parseOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: got %v, want valid JSON", err)
	}
	return doc
}

// resolvePointer follows a local reference such as
// "#/components/schemas/Product" from the root of doc.
func resolvePointer(doc map[string]any, ref string) (any, bool) {
	var node any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return node, true
}

// collectRefs returns every "$ref" value in v, with where it was found.
func collectRefs(v any, at string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && k == "$ref" {
				out[at+"/$ref"] = s
				continue
			}
			collectRefs(child, at+"/"+k, out)
		}
	case []any:
		for i, child := range v {
			collectRefs(child, at+"/"+strconv.Itoa(i), out)
		}
	}
}

func TestOpenAPIIsValidJSON31(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t)

	version, _ := doc["openapi"].(string)
	if !strings.HasPrefix(version, "3.1") {
		t.Errorf("openapi: got %v, want 3.1.x", version)
	}
	info, _ := doc["info"].(map[string]any)
	if got := info["title"]; got != "vitrine" {
		t.Errorf("info.title: got %v, want %v", got, "vitrine")
	}

	refs := map[string]string{}
	collectRefs(doc, "#", refs)
	if len(refs) == 0 {
		t.Errorf("$ref count: got %v, want some", len(refs))
	}
	for at, ref := range refs {
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("%s: got %v, want a reference into #/components/", at, ref)
			continue
		}
		if _, ok := resolvePointer(doc, ref); !ok {
			t.Errorf("%s: got %v, want an existing component", at, ref)
		}
	}

	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatalf("paths: got %v, want a non-empty object", doc["paths"])
	}
	seen := map[string]string{}
	for path, item := range paths {
		item, ok := item.(map[string]any)
		if !ok {
			t.Errorf("paths[%s]: got %T, want an object", path, item)
			continue
		}
		for _, method := range openAPIMethods {
			raw, ok := item[method]
			if !ok {
				continue
			}
			op, _ := raw.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s operationId: got %v, want one", where, op["operationId"])
				continue
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("%s operationId %s: got a duplicate of %v, want unique", where, id, prev)
			}
			seen[id] = where
			if resp, _ := op["responses"].(map[string]any); len(resp) == 0 {
				t.Errorf("%s responses: got %v, want some", where, op["responses"])
			}
		}
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	doc := parseOpenAPI(t)
	paths, _ := doc["paths"].(map[string]any)

	documented := func(path, method string) bool {
		item, _ := paths[path].(map[string]any)
		_, ok := item[method]
		return ok
	}

	routes := apiRoutes(deps{})
	inTable := map[string]bool{}
	for _, rt := range routes {
		for method := range rt.methods {
			m := strings.ToLower(method)
			inTable[m+" "+rt.path] = true
			if !documented(rt.path, m) {
				t.Errorf("%s %s documented: got %v, want %v", method, rt.path, false, true)
			}
		}
	}
	if len(inTable) == 0 {
		t.Fatalf("routes: got %v, want some", len(inTable))
	}

	var extra []string
	for path, item := range paths {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		item, _ := item.(map[string]any)
		for _, method := range openAPIMethods {
			if _, ok := item[method]; ok && !inTable[method+" "+path] {
				extra = append(extra, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("documented operations not in apiRoutes: got %v, want %v", extra, []string{})
	}

	for _, path := range []string{"/media/{key}", "/healthz", "/readyz"} {
		if !documented(path, "get") {
			t.Errorf("GET %s documented: got %v, want %v", path, false, true)
		}
	}
}
