package main

import (
	"slices"
	"strings"
	"testing"
)

// descriptionsQuery asks the running gateway (as GraphiQL's Docs pane and
// every code generator do) for the description of everything of ours:
// types, fields, arguments, input fields, enum values, directives and their
// arguments, and the scalars' @specifiedBy URLs.
const descriptionsQuery = `{
  __schema {
    types {
      name kind description specifiedByURL
      fields(includeDeprecated: true) { name description args { name description } }
      inputFields { name description }
      enumValues(includeDeprecated: true) { name description }
    }
    directives { name description args { name description } }
  }
}`

type introspectedArg struct {
	Name        string
	Description *string
}

// The schema is documented: introspection finds no type, field, argument,
// input field, enum value or directive of ours without a description, and
// the custom scalars say where they are specified. Built-ins (String, Int,
// @skip, ...) and the introspection types (__Type, ...) are not ours.
func TestSchemaDescriptionsComplete(t *testing.T) {
	a := newAPI(t, "sqlite")
	var out struct {
		Schema struct {
			Types []struct {
				Name           string
				Kind           string
				Description    *string
				SpecifiedByURL *string
				Fields         []struct {
					Name        string
					Description *string
					Args        []introspectedArg
				}
				InputFields []introspectedArg
				EnumValues  []introspectedArg
			}
			Directives []struct {
				Name        string
				Description *string
				Args        []introspectedArg
			}
		} `json:"__schema"`
	}
	a.gql("", descriptionsQuery, nil).decode(t, &out)
	if len(out.Schema.Types) == 0 {
		t.Fatal("introspection returned no types")
	}

	var missing []string
	described := 0
	check := func(what string, d *string) {
		if d == nil || strings.TrimSpace(*d) == "" {
			missing = append(missing, what)
			return
		}
		described++
	}
	builtinScalars := []string{"String", "Int", "Float", "Boolean", "ID"}
	specifiedBy := map[string]string{}
	for _, typ := range out.Schema.Types {
		if strings.HasPrefix(typ.Name, "__") || slices.Contains(builtinScalars, typ.Name) {
			continue
		}
		check("type "+typ.Name, typ.Description)
		if typ.Kind == "SCALAR" {
			if typ.SpecifiedByURL == nil || !strings.HasPrefix(*typ.SpecifiedByURL, "https://") {
				missing = append(missing, "scalar "+typ.Name+" @specifiedBy(url:)")
			} else {
				specifiedBy[typ.Name] = *typ.SpecifiedByURL
			}
		}
		for _, f := range typ.Fields {
			check("field "+typ.Name+"."+f.Name, f.Description)
			for _, arg := range f.Args {
				check("argument "+typ.Name+"."+f.Name+"("+arg.Name+":)", arg.Description)
			}
		}
		for _, f := range typ.InputFields {
			check("input field "+typ.Name+"."+f.Name, f.Description)
		}
		for _, v := range typ.EnumValues {
			check("enum value "+typ.Name+"."+v.Name, v.Description)
		}
	}
	builtinDirectives := []string{"skip", "include", "deprecated", "specifiedBy", "oneOf", "defer", "stream"}
	for _, d := range out.Schema.Directives {
		if slices.Contains(builtinDirectives, d.Name) {
			continue
		}
		check("directive @"+d.Name, d.Description)
		for _, arg := range d.Args {
			check("argument @"+d.Name+"("+arg.Name+":)", arg.Description)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d elements of schema.graphql have no \"\"\"description\"\"\":\n  %s",
			len(missing), len(missing)+described, strings.Join(missing, "\n  "))
	}
	if !strings.Contains(specifiedBy["Time"], "rfc3339") {
		t.Errorf("Time is specified by %q, want RFC 3339", specifiedBy["Time"])
	}
	if !strings.Contains(specifiedBy["Decimal"], "docs/api.md#decimal") {
		t.Errorf("Decimal is specified by %q, want our docs/api.md#decimal", specifiedBy["Decimal"])
	}
	t.Logf("%d elements described", described)
}
