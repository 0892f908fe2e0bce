// Package tenancy names how each entity belongs to a tenant. The ent schema
// declares it through its tenancy mixins (ent/schema/mixin.go), code
// generation records it per entity (ent.Tenancy), and package credits
// narrows every read by it: the interceptors on the ent client and the
// hand-written SQL alike. It depends on nothing, so all three can use it.
package tenancy

// Scope is how the rows of one entity are narrowed to a viewer. The zero
// Scope is system-only: no viewer reads the entity, only the gateway's own
// work does.
type Scope struct {
	// Agency is the column holding the id of the agency that owns the row
	// (the row's own id for the agency itself); "" for system-only.
	Agency string `json:"agency,omitempty"`
	// Account is the column a client role is narrowed on, its own account
	// (the row's own id for an account); "" when every account of the agency
	// may see the row (the agency's catalogue).
	Account string `json:"account,omitempty"`
	// Staff says that only the agency's staff and the operator read the
	// rows (an agency's API keys): agency admins their agency's, system
	// admins all; client roles and services none, whatever their agency.
	Staff bool `json:"staff,omitempty"`
}

// AnnotationName is the name of the schema annotation that carries a Scope.
const AnnotationName = "Tenancy"

// Name makes a Scope an ent schema annotation.
func (Scope) Name() string { return AnnotationName }

// SystemOnly says that no viewer reads the entity.
func (s Scope) SystemOnly() bool { return s.Agency == "" }

// Columns are the tenant columns of the entity (none when system-only).
func (s Scope) Columns() []string {
	var cs []string
	for _, c := range []string{s.Agency, s.Account} {
		if c != "" {
			cs = append(cs, c)
		}
	}
	return cs
}
