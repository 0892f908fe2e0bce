package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// ServiceRate is one variant of a service's rate card (an SMS destination,
// say "SG"): the price of one unit at that variant. The default rate is the
// service's own price and has no row. A rate belongs to the agency of its
// service.
type ServiceRate struct{ ent.Schema }

func (ServiceRate) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.ServiceRate}, createdMixin{}, ofAgency()}
}

func (ServiceRate) Fields() []ent.Field {
	return []ent.Field{
		field.String("service_id").GoType(gid.ID("")).Immutable(),
		// Trimmed, 1 to 32 characters (package credits counts characters).
		field.String("variant").NotEmpty().MaxLen(32).Immutable(),
		// Micro-units of the service's currency per unit.
		field.Int64("price"),
	}
}

func (ServiceRate) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("service", Service.Type).Ref("rates").Field("service_id").Unique().Required().Immutable(),
	}
}

func (ServiceRate) Indexes() []ent.Index {
	return []ent.Index{index.Fields("service_id", "variant").Unique()}
}
