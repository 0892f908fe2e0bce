package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// Hold sets credits of one balance aside: while ACTIVE, amount - captured
// is counted in the balance's held, not in its available. Captures are
// USAGE postings (hold_id); a final capture, a release or expiry gives the
// rest back. Only package ledger writes holds, with the balance they move.
type Hold struct{ ent.Schema }

func (Hold) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Hold}, createdMixin{}, ofAccount()}
}

func (Hold) Fields() []ent.Field {
	return []ent.Field{
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		// Micro-units set aside when created, and spent from it so far.
		field.Int64("amount").Immutable(),
		field.Int64("captured").Default(0),
		field.Enum("status").Values("ACTIVE", "CAPTURED", "RELEASED", "EXPIRED").Default("ACTIVE"),
		field.String("reference").Default("").MaxLen(500).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("updated_at").Default(now),
		// What it was sized for, when it was rate x quantity.
		field.String("service_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.String("variant").Optional().Nillable().MaxLen(32).Immutable(),
		field.Int("quantity").Optional().Nillable().Immutable(),
		// The sub of whoever made it.
		field.String("created_by").MaxLen(200).Immutable(),
	}
}

func (Hold) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "created_at", "id"),
		index.Fields("agency_id", "created_at", "id"),
		// The expiry sweep: active holds by expiry.
		index.Fields("expires_at").Annotations(entsql.IndexWhere("status = 'ACTIVE'")),
	}
}

func (Hold) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Checks(map[string]string{
		"hold_amounts": "amount > 0 AND captured >= 0 AND captured <= amount",
	})}
}
