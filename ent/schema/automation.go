package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// Card is a card on file with a provider. Only what the owner needs to
// recognise it is kept: brand, last four digits, expiry.
type Card struct{ ent.Schema }

func (Card) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Card}, createdMixin{}, ofAccount()}
}

func (Card) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").Immutable(),
		field.String("ref").Immutable(),          // the provider's payment method id
		field.String("customer_ref").Immutable(), // the provider's customer it is attached to
		field.String("brand").Immutable(),
		field.String("last4").MaxLen(4).Immutable(),
		field.Int("exp_month").Immutable(),
		field.Int("exp_year").Immutable(),
	}
}

func (Card) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
	}
}

func (Card) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "provider", "ref").Unique(),
	}
}

// TopUpRule buys credits with a saved card when a debit takes the balance of
// one currency below a threshold.
type TopUpRule struct{ ent.Schema }

func (TopUpRule) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.TopUpRule}, createdMixin{}, ofAccount()}
}

func (TopUpRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Bool("enabled").Default(true),
		field.Int64("threshold"),
		// FIXED buys amount; TOP_UP_TO buys what lifts the balance to amount.
		field.Enum("mode").Values("FIXED", "TOP_UP_TO"),
		field.Int64("amount"),
		field.String("card_id").GoType(gid.ID("")).Optional().Nillable(),
		field.Int64("monthly_cap").Optional().Nillable(),
		field.Int("consecutive_failures").Default(0),
		field.Time("retry_after").Optional().Nillable(), // back-off after a decline
		field.Time("paused_at").Optional().Nillable(),
		field.String("pause_reason").Optional().Nillable(),
		field.String("last_failure_reason").Optional().Nillable(),
		field.Time("last_failure_at").Optional().Nillable(),
		field.Time("last_topup_at").Optional().Nillable(),
		field.String("updated_by"),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

func (TopUpRule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
		edge.To("card", Card.Type).Field("card_id").Unique(),
	}
}

func (TopUpRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "currency").Unique()}
}

// AlertRule emails the owner, at most once a day, while the balance of one
// currency is below a threshold.
type AlertRule struct{ ent.Schema }

func (AlertRule) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.AlertRule}, createdMixin{}, ofAccount()}
}

func (AlertRule) Fields() []ent.Field {
	return []ent.Field{
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Bool("enabled").Default(true),
		field.Int64("threshold"),
		field.String("email").MaxLen(254),
		// OK: not low since it was set; LOW: below the threshold, emailed;
		// RECOVERED: back at or above it after being low.
		field.Enum("state").Values("OK", "LOW", "RECOVERED").Default("OK"),
		field.Time("low_since").Optional().Nillable(),
		field.Time("last_sent_at").Optional().Nillable(),
		field.Time("recovered_at").Optional().Nillable(),
		field.String("updated_by"),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

func (AlertRule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
	}
}

func (AlertRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "currency").Unique()}
}

// Job is work queued in the same transaction as the change that needs it
// (a top-up after a debit, an alert email), so it survives a crash; any
// gateway instance may claim it.
type Job struct{ ent.Schema }

func (Job) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Job}, createdMixin{}, systemOnly()}
}

func (Job) Fields() []ent.Field {
	return []ent.Field{
		// INVOICE_MAIL e-mails one invoice; its account_id names the invoice,
		// so each invoice has its own mail in flight (jobs_one_in_flight).
		field.Enum("kind").Values("TOPUP", "ALERT", "INVOICE_MAIL").Immutable(),
		field.String("agency_id").GoType(gid.ID("")).Immutable(),
		field.String("account_id").GoType(gid.ID("")).Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Enum("status").Values("QUEUED", "RUNNING", "DONE").Default("QUEUED"),
		field.Time("run_at").Default(now),
		field.Int("attempts").Default(0),
		field.Time("locked_until").Optional().Nillable(), // a RUNNING job past this was abandoned
		field.String("locked_by").Optional().Nillable(),
		field.String("payment_id").GoType(gid.ID("")).Optional().Nillable(),
		field.String("outcome").Optional().Nillable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

func (Job) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "run_at"),
		// At most one job of a kind in flight per balance: never two top-ups
		// for one balance, and a burst of debits queues one alert.
		index.Fields("kind", "account_id", "currency").Unique().
			StorageKey("jobs_one_in_flight").
			Annotations(entsql.IndexWhere("status IN ('QUEUED', 'RUNNING')")),
	}
}
