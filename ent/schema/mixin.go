package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"creditgate/gid"
	"creditgate/tenancy"
)

// idMixin gives an entity an opaque prefixed ID (see package gid).
type idMixin struct {
	mixin.Schema
	prefix string
}

func (m idMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(gid.ID("")).
			DefaultFunc(gid.NewFunc(m.prefix)).
			MaxLen(40).
			Immutable(),
	}
}

// createdMixin records when a row was made.
type createdMixin struct{ mixin.Schema }

func (createdMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable(),
	}
}

func now() time.Time { return time.Now().UTC() }

// Tenancy. Every entity says how it belongs to a tenant with exactly one of
// the mixins below: the tenant fields it holds, and the tenancy.Scope that
// code generation records for it (ent.Tenancy) and package credits narrows
// every read by. Generating fails for an entity that declares none (see
// ent/entc.go), so adding the mixin is all a new entity needs.

// tenantMixin gives an entity its tenant fields and its Scope.
type tenantMixin struct {
	mixin.Schema
	scope tenancy.Scope
	// agency and account add the agency_id and account_id fields.
	agency, account bool
	// optional: the ids may be absent (a posting on a counter-account).
	optional bool
	// nillableAgency makes an optional agency_id a pointer, so that a row
	// without an agency (NULL, e.g. a platform-wide API key) can be read
	// back: gid.ID does not scan NULL.
	nillableAgency bool
	// accountFirst puts account_id before agency_id, where the table has
	// always had it (balances).
	accountFirst bool
}

// isAgency is the agency itself: a viewer sees its own agency.
func isAgency() tenantMixin {
	return tenantMixin{scope: tenancy.Scope{Agency: "id"}}
}

// isAccount is an account of an agency (agency_id): an agency admin sees
// its agency's, a client only its own.
func isAccount() tenantMixin {
	return tenantMixin{scope: tenancy.Scope{Agency: "agency_id", Account: "id"}, agency: true}
}

// ofAgency is the agency's catalogue (agency_id): every account of the
// agency sees all of it.
func ofAgency() tenantMixin {
	return tenantMixin{scope: tenancy.Scope{Agency: "agency_id"}, agency: true}
}

// ofAccount is held by one account of an agency (agency_id, account_id): an
// agency admin sees its agency's, a client only its own account's.
func ofAccount() tenantMixin {
	return tenantMixin{scope: tenancy.Scope{Agency: "agency_id", Account: "account_id"}, agency: true, account: true}
}

// staffOfAgency is an agency's own configuration that only its staff reads
// (agency_id, optional): agency admins see their agency's rows, system
// admins all; client roles and services see none. A row without an agency
// is the platform's, which only system admins see.
func staffOfAgency() tenantMixin {
	return tenantMixin{scope: tenancy.Scope{Agency: "agency_id", Staff: true}, agency: true, optional: true, nillableAgency: true}
}

// systemOnly is the gateway's own bookkeeping: no viewer reads it, only
// work under credits.System does. Its fields, if any, are its own.
func systemOnly() tenantMixin { return tenantMixin{} }

func (m tenantMixin) Fields() []ent.Field {
	var fs []ent.Field
	if m.agency {
		f := field.String("agency_id").GoType(gid.ID(""))
		if m.optional {
			f = f.Optional()
		}
		if m.optional && m.nillableAgency {
			f = f.Nillable()
		}
		fs = append(fs, f.Immutable())
	}
	if m.account {
		f := field.String("account_id").GoType(gid.ID(""))
		if m.optional {
			f = f.Optional().Nillable()
		}
		f = f.Immutable()
		if m.accountFirst {
			fs = append([]ent.Field{f}, fs...)
		} else {
			fs = append(fs, f)
		}
	}
	return fs
}

func (m tenantMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{m.scope}
}

// leadingFields is a mixin of an entity's own fields that keeps them ahead
// of its tenant fields, where the table has always had them (a mixin's
// fields come before the schema's).
type leadingFields struct {
	mixin.Schema
	fields func() []ent.Field
}

func (m leadingFields) Fields() []ent.Field { return m.fields() }
