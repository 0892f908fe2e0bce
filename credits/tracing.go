package credits

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"creditgate/gid"
	"creditgate/tracing"
)

// Every call to a payment provider or card vault gets a client span
// (tracing on): "payment.<call>" with the provider's name, the payment id,
// and the answer's status. The wrappers are installed where providers are
// (UseProvider, UseVault, the sandbox defaults); off, a call pays one
// context lookup.

// Span attributes of a provider call.
const (
	providerKey     = attribute.Key("creditgate.provider")
	paymentIDKey    = attribute.Key("creditgate.payment_id")
	chargeStatusKey = attribute.Key("creditgate.charge.status") // succeeded, requires_action or failed
)

// sandboxProvider is the traced sandbox: the default provider.
var sandboxProvider Provider = traceProvider(Sandbox{})

// traceProvider wraps p in its spans (once).
func traceProvider(p Provider) Provider {
	if _, ok := p.(tracedProvider); ok {
		return p
	}
	return tracedProvider{p}
}

// traceVault wraps v in its spans (once).
func traceVault(v CardVault) CardVault {
	if _, ok := v.(tracedVault); ok {
		return v
	}
	return tracedVault{v}
}

type tracedProvider struct{ p Provider }

func (t tracedProvider) Name() string { return t.p.Name() }

func (t tracedProvider) Charge(ctx context.Context, req ChargeRequest) (res ChargeResult, err error) {
	ctx, span := startProviderSpan(ctx, "payment.charge", t.p.Name(), req.PaymentID)
	res, err = t.p.Charge(ctx, req)
	endProviderSpan(span, res, err)
	return res, err
}

func (t tracedProvider) Lookup(ctx context.Context, paymentID gid.ID, providerRef string) (res ChargeResult, found bool, err error) {
	ctx, span := startProviderSpan(ctx, "payment.lookup", t.p.Name(), paymentID)
	res, found, err = t.p.Lookup(ctx, paymentID, providerRef)
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("creditgate.charge.found", found))
	}
	endProviderSpan(span, res, err)
	return res, found, err
}

// Refund implements Refunder when the wrapped provider does.
func (t tracedProvider) Refund(ctx context.Context, req RefundRequest) (RefundResult, error) {
	r, ok := t.p.(Refunder)
	if !ok {
		return RefundResult{}, &RefundRefused{Reason: t.p.Name() + " cannot refund through creditgate"}
	}
	ctx, span := startProviderSpan(ctx, "payment.refund", t.p.Name(), req.PaymentID)
	res, err := r.Refund(ctx, req)
	tracing.End(span, err)
	return res, err
}

type tracedVault struct{ v CardVault }

func (t tracedVault) Name() string { return t.v.Name() }

func (t tracedVault) SetupCard(ctx context.Context, req CardSetupRequest) (CardSetup, error) {
	ctx, span := startProviderSpan(ctx, "payment.setup_card", t.v.Name(), "")
	s, err := t.v.SetupCard(ctx, req)
	tracing.End(span, err)
	return s, err
}

func (t tracedVault) SaveCard(ctx context.Context, req SaveCardRequest) (SavedCard, error) {
	ctx, span := startProviderSpan(ctx, "payment.save_card", t.v.Name(), "")
	c, err := t.v.SaveCard(ctx, req)
	tracing.End(span, err)
	return c, err
}

func (t tracedVault) RemoveCard(ctx context.Context, cardRef string) error {
	ctx, span := startProviderSpan(ctx, "payment.remove_card", t.v.Name(), "")
	err := t.v.RemoveCard(ctx, cardRef)
	tracing.End(span, err)
	return err
}

func (t tracedVault) ChargeCard(ctx context.Context, req CardCharge) (res ChargeResult, err error) {
	ctx, span := startProviderSpan(ctx, "payment.charge_card", t.v.Name(), req.PaymentID)
	res, err = t.v.ChargeCard(ctx, req)
	endProviderSpan(span, res, err)
	return res, err
}

func startProviderSpan(ctx context.Context, name, provider string, payment gid.ID) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, name, trace.SpanKindClient)
	if span.IsRecording() {
		span.SetAttributes(providerKey.String(provider))
		if payment != "" {
			span.SetAttributes(paymentIDKey.String(string(payment)))
		}
	}
	return ctx, span
}

// endProviderSpan records a charge's answer (a decline is an answer, not
// an error) and ends span.
func endProviderSpan(span trace.Span, res ChargeResult, err error) {
	if err == nil && span.IsRecording() {
		status := "succeeded"
		switch res.Status {
		case ChargeRequiresAction:
			status = "requires_action"
		case ChargeFailed:
			status = "failed"
		}
		span.SetAttributes(chargeStatusKey.String(status))
	}
	tracing.End(span, err)
}
