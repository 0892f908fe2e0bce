package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// WebhookEndpoint is an agency's (or, without one, the platform's) HTTPS
// receiver of events, signed per Standard Webhooks with its secret.
type WebhookEndpoint struct{ ent.Schema }

func (WebhookEndpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.WebhookEndpoint}, createdMixin{}, staffOfAgency()}
}

func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("url").NotEmpty().MaxLen(2000),
		field.String("description").Optional().Nillable().MaxLen(500),
		// Wire names ("balance.low"); empty: every event. Text, not jsonb:
		// the driver sends []byte arguments in binary (binary_parameters),
		// which jsonb's binary input refuses.
		field.Strings("events").Optional().SchemaType(map[string]string{dialect.Postgres: "text"}),
		field.Bool("enabled").Default(true),
		field.String("disabled_reason").Optional().Nillable().MaxLen(500),
		// The signing key must be at hand to sign, so it is kept (never
		// shown again after creation or rotation); the prefix tells
		// secrets apart.
		field.String("secret").Sensitive(),
		field.String("secret_prefix").MaxLen(20),
		field.String("created_by").MaxLen(300).Immutable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

func (WebhookEndpoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("deliveries", WebhookDelivery.Type),
	}
}

func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("agency_id", "created_at", "id")}
}

// WebhookEvent is the outbox: one row per event, written in the
// transaction of the change it tells of, so a crash neither loses nor
// invents one; dispatching turns it into a delivery per matching endpoint.
type WebhookEvent struct{ ent.Schema }

func (WebhookEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.WebhookEvent}, createdMixin{}, systemOnly()}
}

func (WebhookEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("agency_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.String("account_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.String("type").MaxLen(64).Immutable(),
		field.Text("payload").Immutable(),
		field.Time("dispatched_at").Optional().Nillable(),
	}
}

func (WebhookEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("dispatched_at", "created_at")}
}

// WebhookDelivery is one event sent to one endpoint: its attempts, the
// last answer, and when to try next (claimed by any instance's workers).
type WebhookDelivery struct{ ent.Schema }

func (WebhookDelivery) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.WebhookDelivery}, createdMixin{}, staffOfAgency()}
}

func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("endpoint_id").GoType(gid.ID("")).Immutable(),
		field.String("event_id").GoType(gid.ID("")).Immutable(),
		// The webhook-id header: the same on every attempt.
		field.String("message_id").MaxLen(64).Immutable(),
		field.String("event_type").MaxLen(64).Immutable(),
		field.Text("payload").Immutable(),
		field.Enum("status").Values("PENDING", "SUCCEEDED", "FAILED").Default("PENDING"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").Optional().Nillable(),
		field.Time("last_attempt_at").Optional().Nillable(),
		field.Int("response_code").Optional().Nillable(),
		field.Int("latency_ms").Optional().Nillable(),
		field.String("error").Optional().Nillable().MaxLen(1000),
		// A claim: the instance working on it until then (a crashed
		// worker's claim lapses).
		field.Time("locked_until").Optional().Nillable(),
	}
}

func (WebhookDelivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("endpoint", WebhookEndpoint.Type).Ref("deliveries").Field("endpoint_id").Unique().Required().Immutable(),
	}
}

func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "next_attempt_at"),
		index.Fields("endpoint_id", "created_at", "id"),
		index.Fields("event_id", "endpoint_id").Unique(),
	}
}
