package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// Agency is a partner that sells credits to its client accounts.
type Agency struct{ ent.Schema }

func (Agency) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Agency}, createdMixin{}, isAgency()}
}

func (Agency) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("default_currency").MinLen(3).MaxLen(3).Default("USD"),
		field.Bool("credit_payments_enabled").Default(true),
		// Billing of CREDIT_TOPUP invoices: days until due, the bank details
		// printed on them, and the last number of the agency's own sequence
		// (incremented in the transaction that issues an invoice).
		field.Int("invoice_due_days").Default(14).Min(0).Max(365),
		field.String("bank_details").Optional().Nillable().MaxLen(2000),
		field.Int64("invoice_seq").Default(0),
	}
}

func (Agency) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("accounts", Account.Type),
		edge.To("services", Service.Type),
		edge.To("packages", CreditPackage.Type),
		edge.To("api_keys", APIKey.Type),
	}
}

// Account holds balances: a client's account, or the agency's own pool
// (kind AGENCY) from which the agency allocates credits.
type Account struct{ ent.Schema }

func (Account) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Account}, createdMixin{}, isAccount()}
}

func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("kind").Values("CLIENT", "AGENCY").Immutable(),
		// The card provider's customer (Stripe cus_…), made when the first
		// card is saved.
		field.String("payment_customer").Optional().Nillable(),
		// Where CREDIT_TOPUP invoices are e-mailed; none: the agency sends
		// them by hand.
		field.String("billing_email").Optional().Nillable().MaxLen(254),
	}
}

func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agency", Agency.Type).Ref("accounts").Field("agency_id").Unique().Required().Immutable(),
		edge.To("balances", Balance.Type),
	}
}

func (Account) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("agency_id", "created_at", "id"),
		// One pool per agency.
		index.Fields("agency_id").Unique().Annotations(entsql.IndexWhere("kind = 'AGENCY'")),
	}
}

// Balance is what an account holds in one currency. available never goes
// below zero: debits are conditional updates, and the CHECK is the backstop.
// seq counts the postings on this balance; the newest posting carries it, so
// history pages and the running-balance chain follow seq, not clocks.
type Balance struct{ ent.Schema }

func (Balance) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Balance}, balanceTenancy()}
}

// balanceTenancy keeps account_id the first column of balances, as it
// always was.
func balanceTenancy() tenantMixin {
	m := ofAccount()
	m.accountFirst = true
	return m
}

func (Balance) Fields() []ent.Field {
	return []ent.Field{
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Int64("available").Default(0),
		field.Int64("seq").Default(0),
		// held is set aside by ACTIVE holds: not available, not yet spent.
		// total = available + held is what the ledger holds, and what the
		// postings' running balances chain on.
		field.Int64("held").Default(0),
		// version counts every change of the row (movements and holds): the
		// order of balanceUpdated events. seq counts postings only.
		field.Int64("version").Default(0),
		field.Time("updated_at").Default(now),
		// Triggers mirrored from the account's rules onto the row a debit
		// updates anyway, so checking them costs no extra statement: a debit
		// ending below topup_below queues a top-up, below alert_below (while
		// not alert_low) an alert; a credit back to alert_below while
		// alert_low queues the recovery.
		field.Int64("topup_below").Optional().Nillable(),
		field.Int64("alert_below").Optional().Nillable(),
		field.Bool("alert_low").Default(false),
		// owed is what a refund or dispute took back that available could
		// not cover; the next credits into the balance pay it off first.
		field.Int64("owed").Default(0),
	}
}

func (Balance) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("balances").Field("account_id").Unique().Required().Immutable(),
	}
}

func (Balance) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "currency").Unique()}
}

func (Balance) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Checks(map[string]string{"balance_available_non_negative": "available >= 0", "balance_held_non_negative": "held >= 0"})}
}
