package credits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/balance"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/money"
)

// PurchaseStatus says where a purchase stands.
type PurchaseStatus string

const (
	PurchaseCompleted       PurchaseStatus = "COMPLETED"
	PurchaseRequiresAction  PurchaseStatus = "REQUIRES_ACTION"
	PurchasePendingApproval PurchaseStatus = "PENDING_APPROVAL"
	PurchaseFailed          PurchaseStatus = "FAILED"
)

// BuyCredits describes buyCredits.
type BuyCredits struct {
	AccountID      *gid.ID
	PackageID      *gid.ID
	Amount         *money.Decimal
	Currency       *string
	Method         creditrequest.Method
	Reference      *string
	IdempotencyKey *string
}

// Purchase is the answer to buyCredits.
type Purchase struct {
	Status      PurchaseStatus
	Transaction *ent.Posting       // COMPLETED
	Request     *ent.CreditRequest // PENDING_APPROVAL
	Payment     *ent.Payment       // CARD, PAYPAL
	Balance     *ent.Balance
}

// purchaseInput is the validated request, also its idempotency fingerprint.
type purchaseInput struct {
	Account   gid.ID `json:"a"`
	Package   gid.ID `json:"k,omitempty"`
	Credits   int64  `json:"c"`
	Price     int64  `json:"p"`
	Currency  string `json:"u"`
	Method    string `json:"m"`
	Reference string `json:"r,omitempty"`
}

// BuyCredits buys credits by package or amount. Card and PayPal go through
// the configured provider; bank transfer, crypto and post-paid become a
// PENDING request that credits nothing until an agency admin approves it.
func (s *Service) BuyCredits(ctx context.Context, in BuyCredits) (*Purchase, error) {
	if _, err := requireRole(ctx, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	p, err := s.purchaseInput(ctx, acc, in)
	if err != nil {
		return nil, err
	}
	key, err := newKey(ctx, in.IdempotencyKey, "buyCredits", p)
	if err != nil {
		return nil, err
	}
	switch in.Method {
	case creditrequest.MethodCARD, creditrequest.MethodPAYPAL:
		return s.buyInstant(ctx, acc, p, key)
	case creditrequest.MethodBANK_TRANSFER, creditrequest.MethodCRYPTO, creditrequest.MethodPOSTPAID:
		return s.requestCredits(ctx, acc, p, key)
	default:
		return nil, badInput("method %q is not supported", in.Method)
	}
}

func (s *Service) purchaseInput(ctx context.Context, acc *ent.Account, in BuyCredits) (purchaseInput, error) {
	p := purchaseInput{Account: acc.ID, Method: in.Method.String()}
	if in.Reference != nil {
		p.Reference = strings.TrimSpace(*in.Reference)
		if len(p.Reference) > 500 {
			return p, badInput("reference is longer than 500 characters")
		}
	}
	switch {
	case (in.PackageID == nil) == (in.Amount == nil):
		return p, badInput("give either packageId or amount")
	case in.PackageID != nil:
		pkg, err := s.db.CreditPackage.Query().
			Where(creditpackage.ID(*in.PackageID), creditpackage.AgencyID(acc.AgencyID)).Only(ctx)
		if ent.IsNotFound(err) {
			return p, notFound("credit package")
		}
		if err != nil {
			return p, fmt.Errorf("loading package: %w", err)
		}
		if in.Currency != nil {
			if c, err := money.NormalizeCurrency(*in.Currency); err != nil || c != pkg.Currency {
				return p, badInput("currency: the package is sold in %s", pkg.Currency)
			}
		}
		p.Package, p.Credits, p.Price, p.Currency = pkg.ID, pkg.Credits, pkg.Price, pkg.Currency
	default:
		cur, err := currencyFor(acc.Edges.Agency, in.Currency)
		if err != nil {
			return p, badInput("currency: %v", err)
		}
		amount, err := parseAmount("amount", *in.Amount, cur)
		if err != nil {
			return p, err
		}
		p.Credits, p.Price, p.Currency = amount, amount, cur
	}
	return p, nil
}

// requestCredits records a manual purchase for the agency to review.
func (s *Service) requestCredits(ctx context.Context, acc *ent.Account, p purchaseInput, key *idemKey) (*Purchase, error) {
	v, _ := viewerOf(ctx)
	out, _, err := s.once(ctx, key, func(tx *ent.Tx) (outcome, error) {
		c := tx.CreditRequest.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
			SetAmount(p.Credits).SetCurrency(p.Currency).SetMethod(creditrequest.Method(p.Method)).
			SetRequestedBy(v.UserID)
		if p.Reference != "" {
			c.SetReference(p.Reference)
		}
		req, err := c.Save(ctx)
		if err != nil {
			return outcome{}, fmt.Errorf("creating credit request: %w", err)
		}
		s.announce(ctx, tx, requestEvent(req))
		return outcome{Request: req.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	req, err := s.db.CreditRequest.Query().Where(creditrequest.ID(out.Request)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading credit request: %w", err)
	}
	bal, err := s.balanceIn(ctx, req.Edges.Account, req.Currency)
	if err != nil {
		return nil, err
	}
	return &Purchase{Status: PurchasePendingApproval, Request: req, Balance: bal}, nil
}

// buyInstant charges through the provider. The payment row is committed
// (with the idempotency key) before the provider is called, so a crash in
// between leaves a PENDING payment that a webhook can still settle, never
// money taken and forgotten.
func (s *Service) buyInstant(ctx context.Context, acc *ent.Account, p purchaseInput, key *idemKey) (*Purchase, error) {
	prov := s.provider(creditrequest.Method(p.Method))
	out, replay, err := s.once(ctx, key, func(tx *ent.Tx) (outcome, error) {
		// Refuse before charging what could never be credited.
		if err := s.checkHeadroom(ctx, tx, acc, p.Currency, p.Credits); err != nil {
			return outcome{}, err
		}
		pay, err := tx.Payment.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
			SetProvider(prov.Name()).SetMethod(payment.Method(p.Method)).
			SetAmount(p.Price).SetCredits(p.Credits).SetCurrency(p.Currency).Save(ctx)
		if err != nil {
			return outcome{}, fmt.Errorf("creating payment: %w", err)
		}
		return outcome{Payment: pay.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	if replay {
		return s.paymentOutcome(ctx, out.Payment, true)
	}
	res, err := prov.Charge(ctx, ChargeRequest{
		PaymentID: out.Payment, Method: p.Method, Amount: p.Price, Currency: p.Currency,
		Description: "credits for " + acc.Name,
	})
	if err != nil {
		// The payment stays PENDING with no provider reference: nothing was
		// credited, and the provider's webhook may still settle it.
		return nil, fmt.Errorf("charging through %s: %w", prov.Name(), err)
	}
	sys := System(ctx)
	switch res.Status {
	case ChargeSucceeded:
		if err := s.SettlePayment(sys, out.Payment, res.ProviderRef); err != nil {
			// The provider took the money but it could not be credited: keep
			// the provider's reference and the reason on the payment, so it
			// can be settled again or refunded, never forgotten.
			if uerr := s.db.Payment.UpdateOneID(out.Payment).SetProviderRef(res.ProviderRef).
				SetFailureReason("charged but not credited: " + err.Error()).Exec(sys); uerr != nil {
				s.log.ErrorContext(ctx, "payment charged but not credited", "payment", out.Payment, "error", err, "update_error", uerr)
			}
			return nil, err
		}
	case ChargeFailed:
		if err := s.FailPayment(sys, out.Payment, res.ProviderRef, res.FailureReason); err != nil {
			return nil, err
		}
	case ChargeRequiresAction:
		upd := s.db.Payment.UpdateOneID(out.Payment).SetProviderRef(res.ProviderRef)
		if res.ClientSecret != "" {
			upd.SetClientSecret(res.ClientSecret)
		}
		if res.ApprovalURL != "" {
			upd.SetApprovalURL(res.ApprovalURL)
		}
		if err := upd.Exec(sys); err != nil {
			return nil, fmt.Errorf("recording provider answer: %w", err)
		}
	}
	return s.paymentOutcome(ctx, out.Payment, false)
}

// paymentOutcome answers buyCredits from the payment's current state. A
// replay that finds the first attempt still waiting for its provider waits
// for that answer (bounded), so concurrent retries see the first's result.
func (s *Service) paymentOutcome(ctx context.Context, id gid.ID, replay bool) (*Purchase, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pay, err := s.db.Payment.Query().Where(payment.ID(id)).
			WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).WithTransaction().Only(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading payment: %w", err)
		}
		inFlight := pay.Status == payment.StatusPENDING && pay.ProviderRef == ""
		if replay && inFlight && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
			continue
		}
		bal, err := s.balanceIn(ctx, pay.Edges.Account, pay.Currency)
		if err != nil {
			return nil, err
		}
		out := &Purchase{Payment: pay, Balance: bal}
		switch pay.Status {
		case payment.StatusSUCCEEDED:
			out.Status, out.Transaction = PurchaseCompleted, pay.Edges.Transaction
		case payment.StatusFAILED:
			out.Status = PurchaseFailed
		default:
			out.Status = PurchaseRequiresAction
		}
		return out, nil
	}
}

// SettlePayment credits a payment the provider confirmed. It is idempotent:
// only the call that moves the payment to SUCCEEDED credits the account; any
// later one (a webhook delivered twice, or after the synchronous answer)
// changes nothing. A FAILED payment can still succeed: a Stripe intent whose
// first card failed may be paid with another, and the provider's word that
// money arrived must never be dropped.
func (s *Service) SettlePayment(ctx context.Context, id gid.ID, providerRef string) error {
	ctx = System(ctx)
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		upd := tx.Payment.Update().Where(payment.ID(id), payment.StatusNEQ(payment.StatusSUCCEEDED)).
			SetStatus(payment.StatusSUCCEEDED).ClearFailureReason()
		if providerRef != "" {
			upd.SetProviderRef(providerRef)
		}
		n, err := upd.Save(ctx)
		if err != nil {
			return fmt.Errorf("settling payment %s: %w", id, err)
		}
		if n == 0 {
			return errSettled
		}
		pay, err := tx.Payment.Query().Where(payment.ID(id)).WithAccount().Only(ctx)
		if err != nil {
			return fmt.Errorf("loading payment %s: %w", id, err)
		}
		kind, reference := posting.KindPURCHASE, pay.Method.String()+" "+pay.Provider+" "+pay.ProviderRef
		if pay.Origin == payment.OriginAUTO_TOPUP {
			kind, reference = posting.KindAUTO_TOPUP, "auto top-up "+pay.Provider+" "+pay.ProviderRef
		}
		ps, err := s.post(ctx, tx, entry{
			kind: kind, reference: reference,
			currency: pay.Currency, agencyID: pay.AgencyID,
			legs: []leg{
				{account: pay.Edges.Account, amount: pay.Credits},
				{book: bookClearing + pay.Provider, amount: -pay.Credits},
			},
		})
		if err != nil {
			return err
		}
		return tx.Payment.Update().Where(payment.ID(id)).SetTransactionID(ps[0].ID).Exec(ctx)
	})
	if errors.Is(err, errSettled) {
		return nil
	}
	return err
}

var errSettled = errors.New("payment already settled or failed")

// FailPayment marks a PENDING payment failed; nothing is credited. A
// payment that already succeeded stays succeeded.
func (s *Service) FailPayment(ctx context.Context, id gid.ID, providerRef, reason string) error {
	upd := s.db.Payment.Update().Where(payment.ID(id), payment.StatusEQ(payment.StatusPENDING)).
		SetStatus(payment.StatusFAILED)
	if providerRef != "" {
		upd.SetProviderRef(providerRef)
	}
	if reason != "" {
		upd.SetFailureReason(reason)
	}
	if _, err := upd.Save(System(ctx)); err != nil {
		return fmt.Errorf("failing payment %s: %w", id, err)
	}
	return nil
}

// provider returns the provider configured for method.
func (s *Service) provider(m creditrequest.Method) Provider {
	if p, ok := s.providers[m.String()]; ok {
		return p
	}
	return Sandbox{}
}

// checkHeadroom refuses a credit the balance could not hold.
func (s *Service) checkHeadroom(ctx context.Context, tx *ent.Tx, acc *ent.Account, cur string, credits int64) error {
	b, err := tx.Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency(cur)).Only(System(ctx))
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading balance: %w", err)
	}
	if b.Available > math.MaxInt64-credits {
		return badInput("the balance would exceed the largest amount this currency can hold")
	}
	return nil
}
