package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// AuditEvent is one state change, written in the transaction that made it:
// who (actor, role), what (action, target, summary), where from (request
// id, client address). Append-only: nothing updates or deletes it, so every
// field is immutable.
type AuditEvent struct{ ent.Schema }

func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.AuditEvent}, createdMixin{}, staffOfAgency()}
}

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("actor").MaxLen(300).Immutable(),
		field.String("role").Optional().Nillable().MaxLen(32).Immutable(),
		field.String("action").MaxLen(100).Immutable(),
		field.String("account_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.String("target_id").GoType(gid.ID("")).Optional().Nillable().MaxLen(100).Immutable(),
		field.String("request_id").Optional().Nillable().MaxLen(100).Immutable(),
		field.String("client_address").Optional().Nillable().MaxLen(100).Immutable(),
		field.String("summary").MaxLen(1000).Immutable(),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("agency_id", "created_at", "id"),
		index.Fields("account_id", "created_at", "id"),
		index.Fields("created_at", "id"),
	}
}
