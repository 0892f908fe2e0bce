package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"creditgate/gid"
)

// CreditRequest is a purchase the agency must approve (bank transfer,
// crypto, post-paid) before anything is credited.
type CreditRequest struct{ ent.Schema }

func (CreditRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.CreditRequest}, createdMixin{}, ofAccount()}
}

func (CreditRequest) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("amount").Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Enum("method").Values("CARD", "PAYPAL", "BANK_TRANSFER", "CRYPTO", "POSTPAID", "ONLINE").Immutable(),
		field.String("reference").Optional().Nillable().MaxLen(500).Immutable(),
		field.String("requested_by").Immutable(),
		field.Enum("status").Values("PENDING", "ACCEPTED", "REJECTED").Default("PENDING"),
		field.Bool("paid").Default(false),
		field.Time("reviewed_at").Optional().Nillable(),
		field.String("reviewed_by").Optional().Nillable(),
		field.String("rejection_reason").Optional().Nillable().MaxLen(1000),
		field.String("transaction_id").GoType(gid.ID("")).Optional().Nillable(),
	}
}

func (CreditRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
		edge.To("transaction", Posting.Type).Field("transaction_id").Unique(),
	}
}

func (CreditRequest) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("agency_id", "status", "created_at", "id"),
		index.Fields("account_id", "status", "created_at", "id"),
	}
}

// Invoice is a bill to a client account, payable with credits when eligible.
type Invoice struct{ ent.Schema }

func (Invoice) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Invoice}, createdMixin{}, ofAccount()}
}

func (Invoice) Fields() []ent.Field {
	return []ent.Field{
		field.String("number").NotEmpty().MaxLen(100).Immutable(),
		field.Int64("amount").Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.Enum("status").Values("OPEN", "PAID", "VOID").Default("OPEN"),
		field.Bool("credit_eligible").Default(true),
		field.Time("paid_at").Optional().Nillable(),
		field.String("transaction_id").GoType(gid.ID("")).Optional().Nillable(),
		// CHARGE bills the agency's work (payable with credits when
		// eligible); CREDIT_TOPUP bills a credit request and never is.
		field.Enum("kind").Values("CHARGE", "CREDIT_TOPUP").Default("CHARGE").Immutable(),
		field.Time("due_at").Optional().Nillable(),
		// CREDIT_TOPUP: the request it bills.
		field.String("request_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		// Paid online (payInvoice): the provider payment.
		field.String("payment_id").GoType(gid.ID("")).Optional().Nillable(),
		// The agency's bank details as they were when it was issued.
		field.String("bank_details").Optional().Nillable().MaxLen(2000).Immutable(),
		field.String("void_reason").Optional().Nillable().MaxLen(1000),
		field.String("sent_to").Optional().Nillable().MaxLen(254),
		field.Time("sent_at").Optional().Nillable(),
	}
}

func (Invoice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
		edge.To("transaction", Posting.Type).Field("transaction_id").Unique(),
	}
}

func (Invoice) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "status", "created_at", "id"),
		index.Fields("agency_id", "status", "created_at", "id"),
		index.Fields("agency_id", "number").Unique(),
		index.Fields("request_id").Unique(),
	}
}

// Service is something an agency sells per unit (an SMS, an hour of work).
type Service struct{ ent.Schema }

func (Service) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Service}, createdMixin{}, ofAgency()}
}

func (Service) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.Int64("price"),
		field.String("currency").MinLen(3).MaxLen(3),
		field.Bool("credit_eligible").Default(true),
		// What one unit is ("SMS"); set with the rate card (setServiceRates).
		field.String("unit").NotEmpty().MaxLen(32).Default("unit"),
	}
}

func (Service) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agency", Agency.Type).Ref("services").Field("agency_id").Unique().Required().Immutable(),
		// The variants of its rate card (the default rate is price).
		edge.To("rates", ServiceRate.Type),
	}
}

func (Service) Indexes() []ent.Index {
	return []ent.Index{index.Fields("agency_id", "created_at")}
}

// CreditPackage is a bundle an agency offers: credits for a price.
type CreditPackage struct{ ent.Schema }

func (CreditPackage) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.CreditPackage}, createdMixin{}, ofAgency()}
}

func (CreditPackage) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.Int64("credits"),
		field.Int64("price"),
		field.String("currency").MinLen(3).MaxLen(3),
	}
}

func (CreditPackage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agency", Agency.Type).Ref("packages").Field("agency_id").Unique().Required().Immutable(),
	}
}

func (CreditPackage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("agency_id", "currency", "price")}
}

// Payment is an instant payment through a provider (sandbox, Stripe,
// PayPal). Settling it credits the account once, whatever the provider
// repeats.
type Payment struct{ ent.Schema }

func (Payment) Mixin() []ent.Mixin {
	return []ent.Mixin{idMixin{prefix: gid.Payment}, createdMixin{}, ofAccount()}
}

func (Payment) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").Immutable(),
		field.String("provider_ref").Default(""),
		field.Enum("method").Values("CARD", "PAYPAL").Immutable(),
		field.Enum("status").Values("PENDING", "SUCCEEDED", "FAILED").Default("PENDING"),
		// amount is charged; credits land on the balance (a package can differ).
		field.Int64("amount").Immutable(),
		field.Int64("credits").Immutable(),
		field.String("currency").MinLen(3).MaxLen(3).Immutable(),
		field.String("client_secret").Optional().Nillable().Sensitive(),
		field.String("approval_url").Optional().Nillable(),
		field.String("failure_reason").Optional().Nillable(),
		field.String("transaction_id").GoType(gid.ID("")).Optional().Nillable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
		// A saved card charged off-session (auto top-up); no foreign key, so
		// removing the card keeps the payment's record.
		field.String("card_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.Enum("origin").Values("PURCHASE", "AUTO_TOPUP", "INVOICE").Default("PURCHASE").Immutable(),
		// INVOICE: the invoice it pays (payInvoice).
		field.String("invoice_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		// refunded is provider money, like amount: what went back to the
		// payer, through refundPayment or at the provider (webhooks).
		field.Int64("refunded").Default(0),
	}
}

func (Payment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Field("account_id").Unique().Required().Immutable(),
		edge.To("transaction", Posting.Type).Field("transaction_id").Unique(),
	}
}

func (Payment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("provider", "provider_ref"),
		index.Fields("account_id", "created_at"),
	}
}
