package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// APIKey is a service credential: a back-end of the platform sends its
// secret as a bearer token and acts as a SERVICE viewer within its scopes,
// on its agency's accounts (every agency's when agency_id is absent: a
// platform-wide key, which only a system admin makes and sees). The secret
// is shown once when the key is made; only its SHA-256 is kept.
type APIKey struct{ ent.Schema }

func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.APIKey}, createdMixin{}, staffOfAgency()}
}

func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		// USAGE_WRITE, HOLDS_WRITE, BALANCES_READ (auth.Scope), comma-separated
		// in the API's order.
		field.String("scopes").MaxLen(200),
		// The first characters of the secret (cgk_ and the key's id), to
		// recognise it; never the secret.
		field.String("prefix").MaxLen(40).Immutable(),
		// SHA-256 of the secret, compared in constant time.
		field.Bytes("secret_hash").MinLen(32).MaxLen(32).Sensitive().Immutable(),
		// The sub of whoever made it.
		field.String("created_by").MaxLen(200).Immutable(),
		// Written at most once a minute per key and instance, never per
		// request: it may lag by a minute.
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agency", Agency.Type).Ref("api_keys").Field("agency_id").Unique().Immutable(),
	}
}

func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("agency_id", "created_at")}
}
