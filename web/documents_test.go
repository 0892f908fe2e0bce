package web

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Every document the portal and the dashboard send (extracted into
// web/graphql/ by `make client-types`, whose drift check holds them to the
// JS modules) is valid against schema.graphql: a schema change that would
// break a page fails here, with Node or without.
func TestDocumentsValidAgainstSchema(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "schema.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	files, err := filepath.Glob(filepath.Join("graphql", "*", "*.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"portal", "dashboard"} {
		if m, _ := filepath.Glob(filepath.Join("graphql", app, "*.graphql")); len(m) == 0 {
			t.Errorf("no documents for the %s in web/graphql/%s (make client-types)", app, app)
		}
	}
	ops := 0
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		q, errs := gqlparser.LoadQuery(schema, string(doc))
		for _, e := range errs {
			t.Errorf("%s: %v", f, e)
		}
		if q != nil {
			ops += len(q.Operations)
		}
	}
	t.Logf("%d operations in %d files", ops, len(files))
}
