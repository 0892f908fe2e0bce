package credits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/balance"
	"creditgate/ent/card"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/ledger"
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
	CardID         *gid.ID // one-time top-up: charge this saved card (CARD)
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
	Card      gid.ID `json:"d,omitempty"`
	Invoice   gid.ID `json:"i,omitempty"` // payInvoice: the invoice the payment pays

	card *ent.Card // the saved card to charge, when Card is set
}

// BuyCredits buys credits by package or amount. Card and PayPal go through
// the configured provider; bank transfer, crypto and post-paid become a
// PENDING request that credits nothing until an agency admin approves it.
func (s *Service) BuyCredits(ctx context.Context, in BuyCredits) (*Purchase, error) {
	v, err := requireRole(ctx, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, in.AccountID)
	if err != nil {
		return nil, nothingDone(err) // reads only, so far
	}
	if err := mayBuy(v, acc, in.CardID != nil); err != nil {
		return nil, err
	}
	p, err := s.purchaseInput(ctx, acc, in)
	if err != nil {
		return nil, nothingDone(err)
	}
	m := ledger.Mutation[*Purchase]{Op: "buyCredits", Key: in.IdempotencyKey, Input: p}
	switch in.Method {
	case creditrequest.MethodCARD, creditrequest.MethodPAYPAL:
		return run(ctx, s, s.buyInstant(acc, p, m))
	case creditrequest.MethodBANK_TRANSFER, creditrequest.MethodCRYPTO, creditrequest.MethodONLINE, creditrequest.MethodPOSTPAID:
		return run(ctx, s, s.requestCredits(ctx, acc, p, m))
	default:
		return nil, badInput("method %q is not supported", in.Method)
	}
}

func (s *Service) purchaseInput(ctx context.Context, acc *ent.Account, in BuyCredits) (purchaseInput, error) {
	p := purchaseInput{Account: acc.ID, Method: in.Method.String()}
	if in.Reference != nil {
		p.Reference = strings.TrimSpace(*in.Reference)
		if len([]rune(p.Reference)) > 500 {
			return p, badInput("reference is longer than 500 characters")
		}
	}
	if in.CardID != nil {
		if in.Method != creditrequest.MethodCARD {
			return p, badInput("cardId: a saved card is charged with method CARD")
		}
		c, err := s.savedCard(ctx, acc, *in.CardID)
		if err != nil {
			return p, err
		}
		p.Card, p.card = c.ID, c
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
		amount, err := parsePrice("amount", *in.Amount, cur)
		if err != nil {
			return p, err
		}
		p.Credits, p.Price, p.Currency = amount, amount, cur
	}
	return p, nil
}

// savedCard loads acc's card id, kept by the configured vault.
func (s *Service) savedCard(ctx context.Context, acc *ent.Account, id gid.ID) (*ent.Card, error) {
	c, err := s.db.Card.Query().Where(card.ID(id), card.AccountID(acc.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("card")
	}
	if err != nil {
		return nil, fmt.Errorf("loading card: %w", err)
	}
	if c.Provider != s.vault.Name() {
		return nil, badInput("cardId: the card is kept by %s, which is not configured", c.Provider)
	}
	return c, nil
}

// requestCredits describes a manual purchase for the agency to review (or
// accepted at once: an agency's credit line) on m.
func (s *Service) requestCredits(ctx context.Context, acc *ent.Account, p purchaseInput, m ledger.Mutation[*Purchase]) ledger.Mutation[*Purchase] {
	v, _ := viewerOf(ctx)
	m.Work = func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Purchase, error) {
		c := tx.CreditRequest.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
			SetAmount(p.Credits).SetCurrency(p.Currency).SetMethod(creditrequest.Method(p.Method)).
			SetRequestedBy(v.UserID)
		if p.Reference != "" {
			c.SetReference(p.Reference)
		}
		req, err := c.Save(ctx)
		if err != nil {
			return ledger.Outcome{}, nil, fmt.Errorf("creating credit request: %w", err)
		}
		o := ledger.Outcome{Request: req.ID}
		inv, err := s.issueTopup(ctx, tx.Tx, acc, req, p.Price)
		if err != nil {
			return o, nil, err
		}
		if err := s.audit(ctx, tx.Tx, Audit{Action: m.Op, AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: req.ID,
			Summary: fmt.Sprintf("requested %s by %s, invoice %s", fmtAmount(p.Credits, p.Currency), p.Method, inv.Number)}); err != nil {
			return o, nil, err
		}
		if err := s.emitRequest(ctx, tx.Tx, "request.created", req); err != nil {
			return o, nil, err
		}
		// Answered from the values in hand once the work has committed.
		if acceptsAtOnce(v, acc, creditrequest.Method(p.Method)) {
			req.Edges.Account = acc
			made, t, err := s.accept(ctx, tx, req, v.UserID)
			if err != nil {
				return o, nil, err
			}
			made.Edges.Account, t.Edges.Account = acc, acc
			bal := balanceLeft(tx, t)
			bal.Edges.Account = acc
			return o, &Purchase{Status: PurchaseCompleted, Request: made, Transaction: t, Balance: bal}, nil
		}
		tx.Announce(requestEvent(req))
		// Read now, so that the answer needs no read after COMMIT.
		bal, err := s.headroom(ctx, tx.Tx, acc, p.Currency, 0)
		if err != nil {
			return o, nil, err
		}
		made := req.Unwrap() // its edges are read after COMMIT, through the client
		made.Edges.Account, bal.Edges.Account = acc, acc
		return o, &Purchase{Status: PurchasePendingApproval, Request: made, Balance: bal}, nil
	}
	m.Replay = func(ctx context.Context, o ledger.Outcome) (*Purchase, error) {
		req, err := s.db.CreditRequest.Query().Where(creditrequest.ID(o.Request)).
			WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).WithTransaction().Only(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading credit request: %w", err)
		}
		bal, err := s.balanceIn(ctx, req.Edges.Account, req.Currency)
		if err != nil {
			return nil, err
		}
		if req.Status == creditrequest.StatusACCEPTED {
			return &Purchase{Status: PurchaseCompleted, Request: req, Transaction: req.Edges.Transaction, Balance: bal}, nil
		}
		return &Purchase{Status: PurchasePendingApproval, Request: req, Balance: bal}, nil
	}
	return m
}

// buyInstant charges through the provider. The payment row is committed
// (with the idempotency key) before the provider is called, so a crash in
// between leaves a PENDING payment that a retry with the same key, the
// reconcile job (reconcile.go) or a webhook settles, never money taken and
// forgotten. Once the provider has answered, the answer is built from the
// values in hand: a read that fails after a committed write must not turn
// a success into a failure.
func (s *Service) buyInstant(acc *ent.Account, p purchaseInput, m ledger.Mutation[*Purchase]) ledger.Mutation[*Purchase] {
	prov := s.provider(creditrequest.Method(p.Method))
	name, charge := prov.Name(), prov.Charge
	if c := p.card; c != nil {
		// A one-time top-up: the saved card, charged like auto top-up's.
		name, charge = c.Provider, func(ctx context.Context, r ChargeRequest) (ChargeResult, error) {
			return s.vault.ChargeCard(ctx, CardCharge{ChargeRequest: r, CustomerRef: c.CustomerRef, CardRef: c.Ref})
		}
	}
	m.Work = func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Purchase, error) {
		// Refuse before charging what could never be credited.
		bal, err := s.headroom(ctx, tx.Tx, acc, p.Currency, p.Credits)
		if err != nil {
			return ledger.Outcome{}, nil, err
		}
		c := tx.Payment.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
			SetProvider(name).SetMethod(payment.Method(p.Method)).
			SetAmount(p.Price).SetCredits(p.Credits).SetCurrency(p.Currency)
		if p.card != nil {
			c.SetCardID(p.card.ID)
		}
		what := "credits"
		if p.Invoice != "" {
			c.SetOrigin(payment.OriginINVOICE).SetInvoiceID(p.Invoice)
			what = "invoice " + string(p.Invoice)
		}
		pay, err := c.Save(ctx)
		if err != nil {
			return ledger.Outcome{}, nil, fmt.Errorf("creating payment: %w", err)
		}
		if err := s.audit(ctx, tx.Tx, Audit{Action: m.Op, AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: pay.ID,
			Summary: fmt.Sprintf("charging %s by %s through %s for %s", fmtAmount(p.Price, p.Currency), p.Method, name, what)}); err != nil {
			return ledger.Outcome{}, nil, err
		}
		return ledger.Outcome{Payment: pay.ID}, &Purchase{Status: PurchaseRequiresAction, Payment: pay, Balance: bal}, nil
	}
	m.Replay = func(ctx context.Context, o ledger.Outcome) (*Purchase, error) {
		return s.resumePurchase(ctx, o.Payment)
	}
	// The payment has committed: charge it.
	m.Then = func(ctx context.Context, pu *Purchase) (*Purchase, error) {
		pay := pu.Payment
		pay.Edges.Account = acc
		price, err := minorOf(p.Price, p.Currency)
		if err != nil {
			return nil, err
		}
		res, err := charge(ctx, ChargeRequest{
			PaymentID: pay.ID, Method: p.Method, Amount: price, Currency: p.Currency,
			Description: "credits for " + acc.Name,
		})
		if err != nil {
			// The payment stays PENDING with no provider reference: nothing was
			// credited; a retry with the same key, the reconcile job or the
			// provider's webhook finds out what became of it.
			return nil, fmt.Errorf("charging through %s: %v", name, err)
		}
		if s.afterCharge != nil {
			if err := s.afterCharge(pay.ID); err != nil {
				return nil, err
			}
		}
		return s.answerCharge(ctx, pay, pu.Balance, res)
	}
	return m
}

// answerCharge records the provider's answer on pay and answers buyCredits
// from it; bal is the balance read before, answered when nothing moved and
// it cannot be read again.
func (s *Service) answerCharge(ctx context.Context, pay *ent.Payment, bal *ent.Balance, res ChargeResult) (*Purchase, error) {
	current, err := s.recordCharge(ctx, pay, res)
	if err != nil {
		// Something may have been done (the provider's charge): never
		// UNAVAILABLE, whatever the database said.
		return nil, fmt.Errorf("recording the charge of payment %s: %v", pay.ID, err)
	}
	if !current {
		// The payment moved on meanwhile (a webhook, a concurrent retry):
		// answer what it is now.
		return s.purchaseOf(ctx, pay.ID)
	}
	acc := pay.Edges.Account
	out := &Purchase{Payment: pay}
	switch pay.Status {
	case payment.StatusSUCCEEDED:
		t := pay.Edges.Transaction
		t.Edges.Account = acc
		// Read, not built from the posting: holds may have moved
		// available since, and the running balance is the total.
		bal, err := s.balanceIn(ctx, acc, t.Currency)
		if err != nil {
			return nil, fmt.Errorf("reading the balance after payment %s: %v", pay.ID, err)
		}
		out.Status, out.Transaction, out.Balance = PurchaseCompleted, t, bal
		return out, nil
	case payment.StatusFAILED:
		out.Status = PurchaseFailed
	default:
		out.Status = PurchaseRequiresAction
	}
	// Nothing moved: the balance as it is now, or as it was read before.
	if b, err := s.balanceIn(ctx, acc, pay.Currency); err == nil {
		bal = b
	} else {
		s.log.WarnContext(ctx, "buyCredits: balance not read again; answering the one read before", "payment", pay.ID, "error", err)
	}
	bal.Edges.Account = acc
	out.Balance = bal
	return out, nil
}

// recordCharge records a provider's answer about pay (loaded with its
// account) and updates pay to match: settled with its transaction, failed,
// or waiting for the payer with the provider's reference. current=false:
// the payment had moved on (settled, failed, or known to the provider by
// another reference), and pay is stale.
func (s *Service) recordCharge(ctx context.Context, pay *ent.Payment, res ChargeResult) (current bool, err error) {
	sys := System(ctx)
	switch res.Status {
	case ChargeSucceeded:
		if want, _ := money.ToMinor(pay.Amount, pay.Currency); res.Amount != 0 && (res.Amount != want || !strings.EqualFold(res.Currency, pay.Currency)) {
			s.log.ErrorContext(ctx, "payment: the provider holds another amount, NOT settled: reconcile by hand",
				"payment", pay.ID, "provider", pay.Provider, "provider_ref", res.ProviderRef,
				"provider_amount", res.Amount, "provider_currency", res.Currency, "amount", pay.Amount, "currency", pay.Currency)
			return false, fmt.Errorf("%s holds %s %s for payment %s of %s", pay.Provider, money.FormatMinor(res.Amount, res.Currency), res.Currency, pay.ID, fmtAmount(pay.Amount, pay.Currency))
		}
		t, err := s.settle(sys, pay.ID, res.ProviderRef)
		if err != nil {
			// The provider took the money but it could not be credited: keep
			// the provider's reference and the reason on the payment, so it
			// can be settled again (a retry, the reconcile job) or refunded,
			// never forgotten.
			upd := s.db.Payment.Update().Where(payment.ID(pay.ID), payment.StatusEQ(payment.StatusPENDING)).
				SetFailureReason(truncate("charged but not credited: "+err.Error(), 500))
			if res.ProviderRef != "" {
				upd.SetProviderRef(res.ProviderRef)
			}
			if _, uerr := upd.Save(sys); uerr != nil {
				s.log.ErrorContext(ctx, "payment charged but not credited", "payment", pay.ID, "error", err, "update_error", uerr)
			}
			return false, err
		}
		if t == nil {
			return false, nil // settled before
		}
		pay.Status, pay.FailureReason, pay.TransactionID, pay.Edges.Transaction = payment.StatusSUCCEEDED, nil, &t.ID, t
		if res.ProviderRef != "" {
			pay.ProviderRef = res.ProviderRef
		}
		return true, nil
	case ChargeFailed:
		n, err := s.failPayment(sys, pay.ID, res.ProviderRef, res.FailureReason)
		if err != nil || n == 0 {
			return false, err
		}
		pay.Status = payment.StatusFAILED
		if res.ProviderRef != "" {
			pay.ProviderRef = res.ProviderRef
		}
		if res.FailureReason != "" {
			pay.FailureReason = &res.FailureReason
		}
		return true, nil
	default:
		// Waiting for the payer (or the provider): record how to reach it,
		// never over another reference (the webhook would not match it).
		ref := res.ProviderRef
		if ref == "" {
			ref = pay.ProviderRef
		}
		upd := s.db.Payment.Update().Where(payment.ID(pay.ID), payment.StatusEQ(payment.StatusPENDING),
			payment.ProviderRefIn("", ref)).SetProviderRef(ref).ClearFailureReason()
		if res.ClientSecret != "" {
			upd.SetClientSecret(res.ClientSecret)
		}
		if res.ApprovalURL != "" {
			upd.SetApprovalURL(res.ApprovalURL)
		}
		n, err := upd.Save(sys)
		if err != nil {
			return false, fmt.Errorf("recording provider answer: %w", err)
		}
		if n == 0 {
			return false, nil
		}
		pay.ProviderRef, pay.FailureReason = ref, nil
		if res.ClientSecret != "" {
			pay.ClientSecret = &res.ClientSecret
		}
		if res.ApprovalURL != "" {
			pay.ApprovalURL = &res.ApprovalURL
		}
		return true, nil
	}
}

// purchaseOf answers buyCredits from the payment's row as it is now.
func (s *Service) purchaseOf(ctx context.Context, id gid.ID) (*Purchase, error) {
	pay, err := s.loadPayment(ctx, id)
	if err != nil {
		return nil, err
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

func (s *Service) loadPayment(ctx context.Context, id gid.ID) (*ent.Payment, error) {
	pay, err := s.db.Payment.Query().Where(payment.ID(id)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).WithTransaction().Only(System(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading payment: %w", err)
	}
	return pay, nil
}

// SettlePayment credits a payment the provider confirmed. It is idempotent:
// only the call that moves the payment to SUCCEEDED credits the account; any
// later one (a webhook delivered twice, or after the synchronous answer)
// changes nothing. A FAILED payment can still succeed: a Stripe intent whose
// first card failed may be paid with another, and the provider's word that
// money arrived must never be dropped.
func (s *Service) SettlePayment(ctx context.Context, id gid.ID, providerRef string) error {
	_, err := s.settle(ctx, id, providerRef)
	return err
}

// settle is SettlePayment; it returns the account's posting when this call
// credited the payment, nil when it was settled before.
func (s *Service) settle(ctx context.Context, id gid.ID, providerRef string) (*ent.Posting, error) {
	t, err := run(System(ctx), s, ledger.Mutation[*ent.Posting]{
		Op: "settlePayment",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ent.Posting, error) {
			upd := tx.Payment.Update().Where(payment.ID(id), payment.StatusNEQ(payment.StatusSUCCEEDED)).
				SetStatus(payment.StatusSUCCEEDED).ClearFailureReason()
			if providerRef != "" {
				upd.SetProviderRef(providerRef)
			}
			n, err := upd.Save(ctx)
			if err != nil {
				return ledger.Outcome{}, nil, fmt.Errorf("settling payment %s: %w", id, err)
			}
			if n == 0 {
				return ledger.Outcome{}, nil, errSettled
			}
			pay, err := tx.Payment.Query().Where(payment.ID(id)).WithAccount().Only(ctx)
			if err != nil {
				return ledger.Outcome{}, nil, fmt.Errorf("loading payment %s: %w", id, err)
			}
			if err := s.emitPayment(ctx, tx.Tx, "payment.succeeded", pay, nil); err != nil {
				return ledger.Outcome{}, nil, err
			}
			if pay.Origin == payment.OriginAUTO_TOPUP {
				if err := s.emitPayment(ctx, tx.Tx, "topup.succeeded", pay, nil); err != nil {
					return ledger.Outcome{}, nil, err
				}
			}
			audit := Audit{Action: settleAction(pay), AgencyID: pay.AgencyID, AccountID: pay.AccountID, TargetID: pay.ID,
				Summary: fmt.Sprintf("payment %s of %s settled by %s", pay.ID, fmtAmount(pay.Amount, pay.Currency), pay.Provider)}
			if pay.Origin == payment.OriginINVOICE {
				t, o, ok, err := s.settleInvoice(ctx, tx, pay)
				if err != nil {
					return ledger.Outcome{}, nil, err
				}
				if ok {
					audit.TargetID, audit.Summary = *pay.InvoiceID, audit.Summary+", invoice "+string(*pay.InvoiceID)+" paid"
					if err := s.audit(ctx, tx.Tx, audit); err != nil {
						return ledger.Outcome{}, nil, err
					}
					if t == nil { // nothing credited: a CHARGE invoice, a post-paid settlement
						return o, nil, nil
					}
					return o, t, tx.Payment.Update().Where(payment.ID(id)).SetTransactionID(t.ID).Exec(ctx)
				}
				// The money arrived for an invoice that is no longer payable:
				// credited as a purchase, never lost.
				s.log.WarnContext(ctx, "payment of an invoice no longer open: credited as a purchase", "payment", pay.ID, "invoice", *pay.InvoiceID)
				audit.Summary += ", invoice no longer open: credited as a purchase"
			}
			if err := s.audit(ctx, tx.Tx, audit); err != nil {
				return ledger.Outcome{}, nil, err
			}
			kind, reference := posting.KindPURCHASE, pay.Method.String()+" "+pay.Provider+" "+pay.ProviderRef
			if pay.Origin == payment.OriginAUTO_TOPUP {
				kind, reference = posting.KindAUTO_TOPUP, "auto top-up "+pay.Provider+" "+pay.ProviderRef
			}
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: kind, Reference: reference, Currency: pay.Currency, AgencyID: pay.AgencyID,
				Legs: []ledger.Leg{
					{Account: pay.Edges.Account, Amount: pay.Credits},
					{Book: ledger.Clearing + pay.Provider, Amount: -pay.Credits},
				},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			o := ledger.Outcome{Transaction: ps[0].ID}
			return o, ps[0], tx.Payment.Update().Where(payment.ID(id)).SetTransactionID(ps[0].ID).Exec(ctx)
		},
	})
	if errors.Is(err, errSettled) {
		return nil, nil
	}
	return t, err
}

var errSettled = errors.New("payment already settled or failed")

// FailPayment marks a PENDING payment failed; nothing is credited. A
// payment that already succeeded stays succeeded.
func (s *Service) FailPayment(ctx context.Context, id gid.ID, providerRef, reason string) error {
	_, err := s.failPayment(ctx, id, providerRef, reason)
	return err
}

// failPayment is FailPayment; n is 0 when the payment was not PENDING.
func (s *Service) failPayment(ctx context.Context, id gid.ID, providerRef, reason string) (int, error) {
	upd := s.db.Payment.Update().Where(payment.ID(id), payment.StatusEQ(payment.StatusPENDING)).
		SetStatus(payment.StatusFAILED)
	if providerRef != "" {
		upd.SetProviderRef(providerRef)
	}
	if reason != "" {
		upd.SetFailureReason(reason)
	}
	n, err := upd.Save(System(ctx))
	if err != nil {
		return 0, fmt.Errorf("failing payment %s: %w", id, err)
	}
	return n, nil
}

// provider returns the provider configured for method.
func (s *Service) provider(m creditrequest.Method) Provider {
	if p, ok := s.providers[m.String()]; ok {
		return p
	}
	return sandboxProvider // tracing.go
}

// headroom refuses a credit the balance could not hold, and returns the
// balance it read.
func (s *Service) headroom(ctx context.Context, tx *ent.Tx, acc *ent.Account, cur string, credits int64) (*ent.Balance, error) {
	b, err := tx.Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency(cur)).Only(System(ctx))
	if ent.IsNotFound(err) {
		return &ent.Balance{AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: cur, UpdatedAt: acc.CreatedAt}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading balance: %w", err)
	}
	if b.Available > math.MaxInt64-credits {
		return nil, badInput("the balance would exceed the largest amount this currency can hold")
	}
	return b, nil
}
