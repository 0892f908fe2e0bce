package credits

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/hold"
	"creditgate/ent/posting"
	"creditgate/ent/service"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// Metered usage: the platform's own services (an SMS sender, an OTP
// service, a campaign engine) charge accounts per unit, in calls of 1 to
// MaxUsageEvents events. Each event is independent and all-or-nothing: it
// is one USAGE transaction (rate × quantity, the rate picked by variant) or
// its own error, never part of another's. Every event names an idempotency
// key, scoped to the agency of the account it charges, so a retry through
// another of the agency's keys (or by its admin) is the same event.
//
// The events of a call are queued on their accounts' debit lanes all at
// once (ledger.RunAll), so a call shares transactions with itself and with
// concurrent calls instead of paying a COMMIT per event; one account's
// events run in input order. Usage ignores the credit-payments switch (it
// withdraws an offer from the portal; it never makes usage free) and
// honours creditEligible; auto top-up and alerts follow from the ledger's
// Moved hook as for any debit.

// MaxUsageEvents bounds a recordUsage call.
const MaxUsageEvents = 1000

// UsageEvent is one event of recordUsage.
type UsageEvent struct {
	AccountID      gid.ID
	ServiceID      gid.ID
	Variant        *string
	Quantity       *int // nil: 1
	Reference      *string
	IdempotencyKey string
	HoldID         *gid.ID
}

// UsageResult is one event's outcome, in the order of the events.
type UsageResult struct {
	IdempotencyKey string
	Transaction    *ent.Posting // the USAGE transaction (the first one, on a replay)
	Replayed       bool
	Err            *Error // set when the event was refused; nothing moved for it
}

// usageInput fingerprints an event under its key.
type usageInput struct {
	Account  gid.ID `json:"a"`
	Service  gid.ID `json:"s"`
	Variant  string `json:"v,omitempty"`
	Quantity int    `json:"q"`
	Ref      string `json:"r,omitempty"`
	Hold     gid.ID `json:"h,omitempty"`
}

// AppendJSON appends what json.Marshal writes for in (ledger.InputJSON),
// without its reflection: a usage event's fingerprint is made once per
// event. A string with a byte json.Marshal would escape (quotes, controls,
// HTML's <>&, anything not ASCII) leaves it to json.Marshal.
func (in usageInput) AppendJSON(b []byte) ([]byte, bool) {
	if !plainJSON(string(in.Account)) || !plainJSON(string(in.Service)) || !plainJSON(in.Variant) ||
		!plainJSON(in.Ref) || !plainJSON(string(in.Hold)) {
		return b, false
	}
	b = append(append(append(b, `{"a":"`...), in.Account...), `","s":"`...)
	b = append(append(b, in.Service...), '"')
	if in.Variant != "" {
		b = append(append(append(b, `,"v":"`...), in.Variant...), '"')
	}
	b = strconv.AppendInt(append(b, `,"q":`...), int64(in.Quantity), 10)
	if in.Ref != "" {
		b = append(append(append(b, `,"r":"`...), in.Ref...), '"')
	}
	if in.Hold != "" {
		b = append(append(append(b, `,"h":"`...), in.Hold...), '"')
	}
	return append(b, '}'), true
}

// plainJSON: json.Marshal writes s between quotes as it is (no byte it
// escapes: quotes, controls, HTML's <>&, anything not ASCII).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// RecordUsage charges the events; a refused event answers its own error
// while the others go on. The call itself fails only for the caller
// (role, scope) or its shape (no events, too many).
func (s *Service) RecordUsage(ctx context.Context, events []UsageEvent) (results []UsageResult, err error) {
	if _, err := requireRole(ctx, auth.RoleService, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	if err := requireScope(ctx, ScopeUsageWrite); err != nil {
		return nil, err
	}
	if n := len(events); n < 1 || n > MaxUsageEvents {
		return nil, badInput("events: give 1 to %d events, not %d", MaxUsageEvents, n)
	}
	accs, svcs, holds, kept, err := s.usageTargets(ctx, events)
	if err != nil {
		return nil, nothingDone(err)
	}
	defer func() {
		// An account kept in memory is only its identity: the answer's
		// transaction reads the account if asked (its resolver does).
		for i := range results {
			if p := results[i].Transaction; p != nil && p.AccountID != nil && kept[*p.AccountID] && !results[i].Replayed {
				p.Edges.Account = nil
			}
		}
	}()
	results = make([]UsageResult, len(events))
	ds := make([]ledger.Debit, 0, len(events))
	at := make([]int, 0, len(events)) // ds[j] is events[at[j]]
	charged := false                  // an event charges a hold
	actor := actorOf(ctx)
	for i, ev := range events {
		results[i].IdempotencyKey = ev.IdempotencyKey
		var h *ent.Hold
		if ev.HoldID != nil {
			h = holds[*ev.HoldID]
		}
		d, err := s.usageDebit(ev, accs[ev.AccountID], svcs[ev.ServiceID], h)
		if err != nil {
			results[i].Err = asError(err)
			continue
		}
		charged = charged || d.Entry.Hold != nil
		d.Entry.Actor = actor
		ds = append(ds, d)
		at = append(at, i)
	}
	if len(ds) == 0 {
		return results, nil // every event refused: nothing to write
	}
	// The audit log gets one event per call, not per usage event, in the
	// transaction that writes the call's usage: on the set-based path the
	// call's transaction (written after its debits, only if one was; the
	// transaction may be shared with other calls, each with its own
	// event); on the event-by-event path (SQLite, captures of holds) a
	// call's events are spread over the lanes' transactions (each shared
	// with other calls, up to a batch), so each transaction that writes
	// some of the call's events carries one event for the call, written
	// with the first of them to succeed in it.
	au := usageAudit{events: len(events), refused: len(events) - len(ds), agency: ds[0].Entry.AgencyID, account: ds[0].Entry.Legs[0].Account.ID}
	for _, d := range ds {
		if d.Entry.Legs[0].Account.ID != au.account {
			au.account = ""
		}
		if d.Entry.AgencyID != au.agency {
			au.agency = "" // a platform-wide service's call across agencies
		}
	}
	if charged || s.dialect != dialect.Postgres {
		// Captures of holds go through the one path, event by event (in
		// order, on the accounts' lanes).
		ms := make([]ledger.Mutation[*ent.Posting], len(ds))
		replayed := make([]bool, len(ds))
		audited := &auditedTxs{seen: map[*ent.Tx]bool{}}
		for j, d := range ds {
			// The transaction's id is chosen first, so that the call's
			// audit event, recorded before the debit, names it and rides
			// along in the debit's own statement (ledger.RideAlong).
			d.Entry.ID = gid.New(gid.Posting)
			ms[j] = s.usageMutation(d, &replayed[j])
			work := ms[j].Work
			ms[j].Work = func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ent.Posting, error) {
				first := audited.first(tx.Tx)
				if first {
					a := au.audit(d.Entry.ID, fmt.Sprintf("recorded usage from a call of %d events (%d refused before posting; written in one or more transactions)", au.events, au.refused))
					if err := s.audit(ctx, tx.Tx, a); err != nil {
						audited.undo(tx.Tx)
						return ledger.Outcome{}, nil, err
					}
				}
				o, p, err := work(ctx, tx)
				if err != nil && first {
					audited.undo(tx.Tx) // its event goes with its work: the next event's carries the call
				}
				return o, p, err
			}
		}
		answers, errs := ledger.RunAll(ctx, s.ledger, ms)
		for j, i := range at {
			if errs[j] != nil {
				results[i].Err = s.usageError(ctx, errs[j])
				continue
			}
			results[i].Transaction, results[i].Replayed = answers[j], replayed[j]
		}
		return results, nil
	}
	// Set-based: the whole call in one transaction of a few statements,
	// shared with concurrent calls (a lone event included: it pays a share
	// of a group's statements, not a transaction of its own); its audit
	// event (one per call, whatever its size) rides along in the statement
	// that writes the debits. The balances it leaves go into memory after
	// COMMIT (ledger Hooks.Committed), as a payment's do.
	out := s.ledger.PostAll(ctx, ds, func(ctx context.Context, tx *ledger.Tx, res []ledger.DebitResult) error {
		ok, refused := 0, au.refused
		var first gid.ID
		for _, r := range res {
			switch {
			case r.Posting != nil:
				if first == "" {
					first = r.Posting.ID
				}
				ok++
			case r.Err != nil:
				refused++
			}
		}
		// fmt's "recorded %d usage events (%d ok, %d refused, %d
		// replayed)", concatenated: one allocation, not fmt's boxing.
		return s.audit(ctx, tx.Tx, au.audit(first, "recorded "+strconv.Itoa(au.events)+" usage events ("+strconv.Itoa(ok)+" ok, "+
			strconv.Itoa(refused)+" refused, "+strconv.Itoa(au.events-ok-refused)+" replayed)"))
	})
	var prior []gid.ID
	for j, i := range at {
		switch r := out[j]; {
		case r.Err != nil:
			results[i].Err = s.usageError(ctx, r.Err)
		case r.Replayed:
			results[i].Replayed = true
			prior = append(prior, r.Outcome.Transaction)
		default:
			results[i].Transaction = r.Posting
		}
	}
	if len(prior) > 0 {
		ps, err := s.db.Posting.Query().Where(posting.IDIn(prior...)).
			WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).All(System(ctx))
		if err != nil {
			return nil, fmt.Errorf("loading replayed usage: %w", err)
		}
		byID := make(map[gid.ID]*ent.Posting, len(ps))
		for _, p := range ps {
			byID[p.ID] = p
		}
		for j, i := range at {
			if out[j].Replayed {
				results[i].Transaction = byID[out[j].Outcome.Transaction]
			}
		}
	}
	return results, nil
}

// usageAudit is what the audit event of a recordUsage call says.
type usageAudit struct {
	events, refused int    // in the call; refused before posting
	agency, account gid.ID // "" when the call's events are of several
}

func (u usageAudit) audit(target gid.ID, summary string) Audit {
	return Audit{Action: "recordUsage", AgencyID: u.agency, AccountID: u.account, TargetID: target, Summary: summary}
}

// auditedTxs remembers the transactions that carry a call's audit event
// (the lanes run concurrently).
type auditedTxs struct {
	mu   sync.Mutex
	seen map[*ent.Tx]bool
}

// undo: the event marked in tx was undone with its event's work.
func (a *auditedTxs) undo(tx *ent.Tx) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.seen, tx)
}

// first says whether tx has no event of the call yet, and marks it.
func (a *auditedTxs) first(tx *ent.Tx) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[tx] {
		return false
	}
	a.seen[tx] = true
	return true
}

// usageTargets loads the accounts, services and holds the events name,
// each once, in the viewer's scope: one out of it is missing here, so
// NOT_FOUND. Accounts and services come from memory when kept there
// (usagecache.go); kept says which accounts are only their identity.
func (s *Service) usageTargets(ctx context.Context, events []UsageEvent) (map[gid.ID]*ent.Account, map[gid.ID]*ent.Service, map[gid.ID]*ent.Hold, map[gid.ID]bool, error) {
	accs, svcs, kept := map[gid.ID]*ent.Account{}, map[gid.ID]*ent.Service{}, map[gid.ID]bool{}
	var holds map[gid.ID]*ent.Hold // made for the first event with a hold: most have none
	var accIDs, svcIDs, holdIDs []gid.ID
	for _, ev := range events {
		if _, seen := accs[ev.AccountID]; !seen {
			acc, known := s.usage.account(ctx, ev.AccountID)
			accs[ev.AccountID] = acc // nil until read, or out of scope
			if known {
				kept[ev.AccountID] = acc != nil
			} else {
				accIDs = append(accIDs, ev.AccountID)
			}
		}
		if _, seen := svcs[ev.ServiceID]; !seen {
			svc, known := s.usage.service(ctx, ev.ServiceID)
			svcs[ev.ServiceID] = svc
			if !known {
				svcIDs = append(svcIDs, ev.ServiceID)
			}
		}
		if ev.HoldID != nil {
			if holds == nil {
				holds = map[gid.ID]*ent.Hold{}
			}
			if _, seen := holds[*ev.HoldID]; !seen {
				holds[*ev.HoldID] = nil
				holdIDs = append(holdIDs, *ev.HoldID)
			}
		}
	}
	// The accounts' agencies are not needed here: usage ignores the
	// credit-payments switch, and an answer's account loads its own.
	if len(accIDs) > 0 {
		list, err := s.db.Account.Query().Where(account.IDIn(accIDs...)).All(ctx)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("loading accounts: %w", err)
		}
		for _, a := range list {
			accs[a.ID] = a
		}
		s.usage.keepAccounts(list)
	}
	if len(svcIDs) > 0 {
		gen, _ := s.usage.servicesGen()
		list, err := s.db.Service.Query().Where(service.IDIn(svcIDs...)).All(ctx)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("loading services: %w", err)
		}
		if err := s.LoadRates(ctx, list...); err != nil {
			return nil, nil, nil, nil, err
		}
		for _, v := range list {
			svcs[v.ID] = v
		}
		s.usage.keepServices(gen, list)
	}
	if len(holdIDs) > 0 {
		hs, err := s.db.Hold.Query().Where(hold.IDIn(holdIDs...)).All(ctx)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("loading holds: %w", err)
		}
		for _, h := range hs {
			holds[h.ID] = h
		}
	}
	return accs, svcs, holds, kept, nil
}

// usageDebit checks one event and describes its USAGE debit; nil acc, svc
// or h (with a holdId): not in the viewer's scope. With a hold, the event
// is a partial capture of it: charged to what the hold set aside
// (INSUFFICIENT_CREDITS beyond its remainder; CONFLICT once it is not
// ACTIVE).
func (s *Service) usageDebit(ev UsageEvent, acc *ent.Account, svc *ent.Service, h *ent.Hold) (ledger.Debit, error) {
	var m ledger.Debit
	key := strings.TrimSpace(ev.IdempotencyKey)
	if key == "" {
		return m, badInput("idempotencyKey is required for every event")
	}
	if acc == nil {
		return m, notFound("account")
	}
	if svc == nil || svc.AgencyID != acc.AgencyID {
		return m, notFound("service")
	}
	var capture *ledger.Capture
	if ev.HoldID != nil {
		switch {
		case h == nil:
			return m, notFound("hold")
		case h.AccountID != acc.ID:
			return m, badInput("holdId: the hold sets aside credits of another account")
		case h.Currency != svc.Currency:
			return m, badInput("holdId: the hold is in %s, the service charges %s", h.Currency, svc.Currency)
		}
		capture = &ledger.Capture{ID: h.ID}
	}
	if !svc.CreditEligible {
		return m, unavailable(CodeNotEligible)
	}
	qty := 1
	if ev.Quantity != nil {
		qty = *ev.Quantity
	}
	if qty < 1 {
		return m, badInput("quantity must be at least 1")
	}
	variant := ""
	if ev.Variant != nil {
		variant = NormalizeVariant(*ev.Variant)
	}
	if !hasVariant(svc, variant) {
		variant = "" // an unknown variant is charged at the default rate
	}
	price, ok := RateIn(svc, variant)
	if !ok {
		return m, fmt.Errorf("rates of service %s not loaded", svc.ID)
	}
	amount, err := money.MulQuantity(price, int64(qty))
	if err != nil {
		return m, badInput("quantity: %v", err)
	}
	ref := svc.Name
	if variant != "" {
		ref += " " + variant
	}
	ref += " x" + strconv.Itoa(qty) // fmt's "%s x%d", without its reflection per event
	if ev.Reference != nil {
		if r := strings.TrimSpace(*ev.Reference); r != "" {
			if len([]rune(r)) > 500 {
				return m, badInput("reference is longer than 500 characters")
			}
			ref = r
		}
	}
	return ledger.Debit{
		Op: "recordUsage", Key: key, Scope: "usage|" + string(acc.AgencyID),
		Input: usageInput{Account: acc.ID, Service: svc.ID, Variant: variant, Quantity: qty, Ref: ref, Hold: holdID(h)},
		Entry: ledger.Entry{
			Kind: posting.KindUSAGE, Reference: ref, Currency: svc.Currency, AgencyID: acc.AgencyID,
			Legs: []ledger.Leg{
				{Account: acc, Amount: -amount},
				{Book: ledger.Revenue, Amount: amount},
			},
			Detail: &ledger.Detail{ServiceID: svc.ID, Variant: variant, Quantity: qty, HoldID: holdID(h)},
			Hold:   capture,
		},
	}, nil
}

// usageMutation is d on the one path, event by event (captures of holds).
func (s *Service) usageMutation(d ledger.Debit, replayed *bool) ledger.Mutation[*ent.Posting] {
	key := d.Key
	return ledger.Mutation[*ent.Posting]{
		Op: d.Op, Key: &key, Scope: d.Scope, Input: d.Input, Debit: d.Entry.Legs[0].Account.ID,
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ent.Posting, error) {
			ps, err := s.post(ctx, tx, d.Entry)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: ps[0].ID}, ps[0], nil
		},
		Replay: func(ctx context.Context, o ledger.Outcome) (*ent.Posting, error) {
			*replayed = true
			p, err := s.db.Posting.Query().Where(posting.ID(o.Transaction)).
				WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(System(ctx))
			if err != nil {
				return nil, fmt.Errorf("loading usage transaction: %w", err)
			}
			return p, nil
		},
	}
}

func holdID(h *ent.Hold) gid.ID {
	if h == nil {
		return ""
	}
	return h.ID
}

// hasVariant: the service's rate card names variant ("" always).
func hasVariant(svc *ent.Service, variant string) bool {
	if variant == "" {
		return true
	}
	for _, r := range svc.Edges.Rates {
		if r.Variant == variant {
			return true
		}
	}
	return false
}

// usageError is an event's refusal in the contract's terms; anything
// unexpected is logged and answered INTERNAL without its details.
func (s *Service) usageError(ctx context.Context, err error) *Error {
	e := asError(err)
	if e.Code == CodeInternal {
		s.log.ErrorContext(ctx, "recordUsage: event failed", "error", err)
	}
	return e
}

// asError is err as the contract's coded error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch code := CodeOf(err); code {
	case CodeBadInput: // the money package's messages are the client's
		return &Error{Code: code, Message: err.Error()}
	case CodeUnavailable:
		return &Error{Code: code, Message: "the database cannot be reached; nothing was done for this event: retry it"}
	default:
		return &Error{Code: code, Message: "internal error"}
	}
}

// ServiceOf is what a USAGE or SERVICE_PURCHASE transaction bought (nil for
// other kinds), read in the viewer's scope.
func (s *Service) ServiceOf(ctx context.Context, p *ent.Posting) (*ent.Service, error) {
	if p.ServiceID == nil {
		return nil, nil
	}
	svc, err := s.db.Service.Get(ctx, *p.ServiceID)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading service of transaction %s: %w", p.ID, err)
	}
	return svc, nil
}
