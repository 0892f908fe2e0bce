//go:build ignore

package main

import (
	"encoding/json"
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"creditgate/tenancy"
)

func main() {
	ext, err := entgql.NewExtension()
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureIntercept,
			gen.FeatureExecQuery,
			gen.FeatureUpsert,
			gen.FeatureLock,
		},
		Hooks: []gen.Hook{requireTenancy},
	}, entc.Extensions(ext), entc.TemplateFiles("template/tenancy.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// requireTenancy refuses to generate for an entity whose schema declares no
// tenancy (none of the tenancy mixins of ent/schema/mixin.go), or names a
// tenant column it does not have: every read of every entity is narrowed
// by what it declares, so none may be forgotten.
func requireTenancy(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for _, n := range g.Nodes {
			a, ok := n.Annotations[tenancy.AnnotationName]
			if !ok {
				return fmt.Errorf("schema %s declares no tenancy: give it one of the tenancy mixins of ent/schema/mixin.go (systemOnly for internal bookkeeping)", n.Name)
			}
			var s tenancy.Scope
			b, err := json.Marshal(a)
			if err == nil {
				err = json.Unmarshal(b, &s)
			}
			if err != nil {
				return fmt.Errorf("schema %s: reading its tenancy: %w", n.Name, err)
			}
			for _, c := range s.Columns() {
				if c != n.ID.StorageKey() && !hasColumn(n, c) {
					return fmt.Errorf("schema %s: its tenancy names column %s, which it does not have", n.Name, c)
				}
			}
		}
		return next.Generate(g)
	})
}

func hasColumn(n *gen.Type, c string) bool {
	for _, f := range n.Fields {
		if f.StorageKey() == c {
			return true
		}
	}
	return false
}
