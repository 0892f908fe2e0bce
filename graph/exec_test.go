package graph

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeanExecMatchesGenerated: leanSchema.exec's query and mutation cases
// are the generated Exec's, but for the statement that puts the input
// unmarshaler map into the context (exec.go). A gqlgen upgrade that
// changes the generated Exec fails here until the copy follows it.
func TestLeanExecMatchesGenerated(t *testing.T) {
	fset := token.NewFileSet()
	gen := funcDecl(t, fset, "generated.go", "executableSchema", "Exec")
	lean := funcDecl(t, fset, "exec.go", "leanSchema", "exec")

	// The generated Exec: opCtx, ec, the map, first, then the switch.
	var before []string
	var genSwitch *ast.SwitchStmt
	for _, st := range gen.Body.List {
		if sw, ok := st.(*ast.SwitchStmt); ok {
			genSwitch = sw
			break
		}
		if text := source(t, fset, st); !strings.HasPrefix(text, "inputUnmarshalMap:=graphql.BuildUnmarshalerMap(") {
			before = append(before, text)
		}
	}
	want := []string{
		"opCtx:=graphql.GetOperationContext(ctx)",
		"ec:=newExecutionContext(opCtx,e,make(changraphql.DeferredResult))",
		"first:=true",
	}
	if strings.Join(before, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the generated Exec's statements before its switch changed:\n%s\nwant\n%s", strings.Join(before, "\n"), strings.Join(want, "\n"))
	}
	if genSwitch == nil {
		t.Fatal("no switch in the generated Exec")
	}
	var leanSwitch *ast.SwitchStmt
	for _, st := range lean.Body.List {
		if sw, ok := st.(*ast.SwitchStmt); ok {
			leanSwitch = sw
		}
	}
	if leanSwitch == nil {
		t.Fatal("no switch in leanSchema.exec")
	}
	cases := func(sw *ast.SwitchStmt) map[string]string {
		m := map[string]string{}
		for _, c := range sw.Body.List {
			cc := c.(*ast.CaseClause)
			if len(cc.List) != 1 {
				continue
			}
			var body []string
			for _, st := range cc.Body {
				body = append(body, source(t, fset, st))
			}
			m[source(t, fset, cc.List[0])] = strings.Join(body, "\n")
		}
		return m
	}
	genCases, leanCases := cases(genSwitch), cases(leanSwitch)
	const installMap = "ctx=graphql.WithUnmarshalerMap(ctx,inputUnmarshalMap)"
	for _, op := range []string{"ast.Query", "ast.Mutation"} {
		g, ok := genCases[op]
		if !ok {
			t.Fatalf("the generated Exec has no case %s", op)
		}
		if strings.Count(g, installMap) != 1 {
			t.Fatalf("the generated Exec's case %s does not install the map once:\n%s", op, g)
		}
		if g = strings.Replace(g, installMap, "", 1); g != leanCases[op] {
			t.Errorf("case %s: leanSchema.exec differs from the generated Exec (less the map):\n%s\nwant\n%s", op, leanCases[op], g)
		}
	}
}

// TestNoInputMapReader: nothing reads the map leanSchema leaves out
// (graphql.UnmarshalInputFromContext): ent's one caller, unmarshalArgs,
// is reached only from fieldArgs, which nothing calls.
func TestNoInputMapReader(t *testing.T) {
	count := map[string]int{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range []string{"UnmarshalInputFromContext(", "unmarshalArgs(", "fieldArgs("} {
			if n := bytes.Count(b, []byte(s)); n > 0 {
				count[s] += n
				if s == "UnmarshalInputFromContext(" && filepath.ToSlash(path) != "../ent/gql_collection.go" {
					t.Errorf("%s calls graphql.UnmarshalInputFromContext: the map leanSchema leaves out is read (exec.go)", path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The definitions, and fieldArgs' call of unmarshalArgs.
	for s, want := range map[string]int{"UnmarshalInputFromContext(": 1, "unmarshalArgs(": 2, "fieldArgs(": 1} {
		if count[s] != want {
			t.Errorf("%q appears %d times in the program, want %d: is the input map read now? (exec.go)", s, count[s], want)
		}
	}
}

func funcDecl(t *testing.T, fset *token.FileSet, file, recv, name string) *ast.FuncDecl {
	t.Helper()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != name || fd.Recv == nil || len(fd.Recv.List) != 1 {
			continue
		}
		typ := fd.Recv.List[0].Type
		if star, ok := typ.(*ast.StarExpr); ok {
			typ = star.X
		}
		if id, ok := typ.(*ast.Ident); ok && id.Name == recv {
			return fd
		}
	}
	t.Fatalf("%s: no method %s.%s", file, recv, name)
	return nil
}

// source is n's text without any whitespace.
func source(t *testing.T, fset *token.FileSet, n ast.Node) string {
	t.Helper()
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(b.String()), "")
}
