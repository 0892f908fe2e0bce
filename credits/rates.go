package credits

// Rate cards: a service's default rate (its price) and its variants (an SMS
// destination, say "SG"), each the price of one unit in the service's
// currency, in micro-units. The variants are rows of ServiceRate; the
// default rate has none, it is Service.price.
//
// For the code that charges by variant (usage, holds), the rules are:
//
//   - RateOf(ctx, svc, variant) is the price of one unit of svc at variant:
//     the variant's rate when the card has it, else the default rate
//     (svc.Price). The variant is trimmed first; "" (or absent) is the
//     default. It reads no row when svc's rates were loaded (LoadRates, or
//     a query WithRates(RatesOrdered)); otherwise it reads the one rate.
//   - RateIn(svc, variant) is the same without a context, for set-based
//     work that loaded the rates of all its services at once (LoadRates):
//     ok is false when svc's rates were not loaded.
//   - A charge is then money.MulQuantity(price, quantity): exact, nothing
//     rounded.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/service"
	"creditgate/ent/servicerate"
	"creditgate/gid"
	"creditgate/money"
)

const (
	// MaxRateVariants is how many variants one rate card may have.
	MaxRateVariants = 500
	// maxVariantLen and maxUnitLen are in characters.
	maxVariantLen = 32
	maxUnitLen    = 32
)

func init() {
	// Count characters, like every other length limit (textlen.go).
	servicerate.VariantValidator = countingRunes(servicerate.VariantValidator)
	service.UnitValidator = countingRunes(service.UnitValidator)
}

// Rate is one line of a rate card: the price of one unit at Variant ("" is
// the default rate).
type Rate struct {
	Variant string
	Price   int64 // micro-units of the service's currency
}

// NormalizeVariant is the variant a caller named, as rate cards store it.
func NormalizeVariant(v string) string { return strings.TrimSpace(v) }

// RatesOrdered loads a service query's rates (WithRates) in the order rate
// cards list them: by variant, byte-wise, on every database.
func RatesOrdered(q *ent.ServiceRateQuery) {
	q.Order(ent.Asc(servicerate.FieldVariant), ent.Asc(servicerate.FieldID))
}

// ratesLoaded tells whether svc's rates were loaded (an eager load sets the
// edge to a non-nil slice, empty when there are none).
func ratesLoaded(svc *ent.Service) bool {
	if svc.Edges.Rates != nil {
		return true
	}
	_, err := svc.Edges.RatesOrErr()
	return err == nil
}

// LoadRates loads the rate cards of svcs, in one query whatever their
// number, for those whose rates are not loaded yet.
func (s *Service) LoadRates(ctx context.Context, svcs ...*ent.Service) error {
	byID := map[gid.ID][]*ent.Service{}
	ids := []gid.ID{}
	for _, sv := range svcs {
		if sv == nil || ratesLoaded(sv) {
			continue
		}
		if _, seen := byID[sv.ID]; !seen {
			ids = append(ids, sv.ID)
		}
		byID[sv.ID] = append(byID[sv.ID], sv)
	}
	if len(ids) == 0 {
		return nil
	}
	q := s.db.ServiceRate.Query().Where(servicerate.ServiceIDIn(ids...))
	RatesOrdered(q)
	rows, err := q.All(ctx)
	if err != nil {
		return fmt.Errorf("loading rate cards: %w", err)
	}
	for _, list := range byID {
		for _, sv := range list {
			sv.Edges.Rates = []*ent.ServiceRate{}
		}
	}
	for _, r := range rows {
		for _, sv := range byID[r.ServiceID] {
			sv.Edges.Rates = append(sv.Edges.Rates, r)
		}
	}
	for _, list := range byID {
		for _, sv := range list {
			sortRates(sv.Edges.Rates)
		}
	}
	return nil
}

// sortRates orders rates by variant byte-wise (the databases' collations
// differ; this does not).
func sortRates(rs []*ent.ServiceRate) {
	slices.SortFunc(rs, func(a, b *ent.ServiceRate) int { return strings.Compare(a.Variant, b.Variant) })
}

// RateCard is svc's rate card: the default rate first, then the variants by
// name.
func (s *Service) RateCard(ctx context.Context, svc *ent.Service) ([]Rate, error) {
	if err := s.LoadRates(ctx, svc); err != nil {
		return nil, err
	}
	out := make([]Rate, 0, len(svc.Edges.Rates)+1)
	out = append(out, Rate{Variant: "", Price: svc.Price})
	for _, r := range svc.Edges.Rates {
		out = append(out, Rate{Variant: r.Variant, Price: r.Price})
	}
	return out, nil
}

// RateIn is the price of one unit of svc at variant, from svc's loaded
// rates: the variant's rate, or the default rate (svc.Price) for "" and
// for a variant the card does not have. ok is false when svc's rates were
// not loaded (see LoadRates), unless variant is the default.
func RateIn(svc *ent.Service, variant string) (price int64, ok bool) {
	variant = NormalizeVariant(variant)
	if variant == "" {
		return svc.Price, true
	}
	if !ratesLoaded(svc) {
		return 0, false
	}
	for _, r := range svc.Edges.Rates {
		if r.Variant == variant {
			return r.Price, true
		}
	}
	return svc.Price, true
}

// RateOf is the price of one unit of svc at variant (see RateIn): an
// absent or unknown variant is charged the default rate. It reads the one
// rate when svc's rates were not loaded.
func (s *Service) RateOf(ctx context.Context, svc *ent.Service, variant string) (int64, error) {
	if p, ok := RateIn(svc, variant); ok {
		return p, nil
	}
	r, err := s.db.ServiceRate.Query().
		Where(servicerate.ServiceID(svc.ID), servicerate.Variant(NormalizeVariant(variant))).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return svc.Price, nil
	case err != nil:
		return 0, fmt.Errorf("loading rate: %w", err)
	}
	return r.Price, nil
}

// RateInput is one line of setServiceRates.
type RateInput struct {
	Variant string
	Price   money.Decimal
}

// ServiceRates describes setServiceRates.
type ServiceRates struct {
	ServiceID gid.ID
	Unit      *string // nil: unchanged
	// Rates replaces the variants; the "" rate, when present, sets the
	// service's price.
	Rates []RateInput
}

// SetServiceRates replaces a service's rate card (agency admins for their
// agency's services, system admins): its variants, its price when the ""
// rate is given, its unit when given. All or nothing.
func (s *Service) SetServiceRates(ctx context.Context, in ServiceRates) (*ent.Service, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	// Read through the scope: another agency's service is NOT_FOUND.
	svc, err := s.db.Service.Query().Where(service.ID(in.ServiceID)).WithAgency().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("service")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading service: %w", err))
	}
	unit := svc.Unit
	if in.Unit != nil {
		if unit, err = cleanLabel("unit", *in.Unit, maxUnitLen); err != nil {
			return nil, err
		}
	}
	price, variants, err := parseRates(in.Rates, svc.Currency)
	if err != nil {
		return nil, err
	}
	if price == 0 {
		price = svc.Price
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		// The service row first: it locks the card, so two replacements of
		// one card run one after the other.
		n, err := tx.Service.Update().Where(service.ID(svc.ID)).SetUnit(unit).SetPrice(price).Save(ctx)
		if err != nil {
			return fmt.Errorf("updating service: %w", err)
		}
		if n != 1 {
			return notFound("service")
		}
		if err := s.servicesChanged(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ServiceRate.Delete().Where(servicerate.ServiceID(svc.ID)).Exec(ctx); err != nil {
			return fmt.Errorf("removing rates: %w", err)
		}
		a := Audit{Action: "setServiceRates", AgencyID: svc.AgencyID, TargetID: svc.ID,
			Summary: fmt.Sprintf("set rates of service %s %s: %s per %s, %d variant(s)", svc.ID, svc.Name, fmtAmount(price, svc.Currency), unit, len(variants))}
		if len(variants) == 0 {
			svc.Edges.Rates = []*ent.ServiceRate{}
			return s.audit(ctx, tx, a)
		}
		creates := make([]*ent.ServiceRateCreate, len(variants))
		for i, r := range variants {
			creates[i] = tx.ServiceRate.Create().SetAgencyID(svc.AgencyID).SetServiceID(svc.ID).
				SetVariant(r.Variant).SetPrice(r.Price)
		}
		rows, err := tx.ServiceRate.CreateBulk(creates...).Save(ctx)
		if err != nil {
			return fmt.Errorf("saving rates: %w", err)
		}
		svc.Edges.Rates = rows
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		svc.Edges.Rates = nil
		return nil, err
	}
	svc.Unit, svc.Price = unit, price
	sortRates(svc.Edges.Rates)
	return svc, nil
}

// parseRates validates a rate card: the default price (0 when no "" rate
// was given) and the variants, by name.
func parseRates(in []RateInput, cur string) (int64, []Rate, error) {
	var def int64
	seen := make(map[string]bool, len(in))
	variants := make([]Rate, 0, len(in))
	for i, r := range in {
		name := NormalizeVariant(r.Variant)
		field := fmt.Sprintf("rates[%d]", i)
		if name != "" {
			var err error
			if name, err = cleanLabel(field+".variant", name, maxVariantLen); err != nil {
				return 0, nil, err
			}
		}
		if seen[name] {
			return 0, nil, badInput("%s.variant: %q is given twice", field, name)
		}
		seen[name] = true
		price, err := parseAmount(field+".price", r.Price, cur)
		if err != nil {
			return 0, nil, err
		}
		if name == "" {
			def = price
			continue
		}
		if len(variants) == MaxRateVariants {
			return 0, nil, badInput("rates: at most %d variants", MaxRateVariants)
		}
		variants = append(variants, Rate{Variant: name, Price: price})
	}
	slices.SortFunc(variants, func(a, b Rate) int { return strings.Compare(a.Variant, b.Variant) })
	return def, variants, nil
}

// cleanLabel is a short trimmed label (a variant, a unit): 1 to max
// characters, valid UTF-8, no control characters.
func cleanLabel(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", badInput("%s must not be empty", field)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", badInput("%s has characters that are not allowed", field)
	case utf8.RuneCountInString(s) > max:
		return "", badInput("%s is longer than %d characters", field, max)
	}
	return s, nil
}

// ServiceAvailabilityAt is ServiceAvailability at the rate of variant (nil
// or unknown: the default rate): whether the account can buy one unit at
// that rate, and how many whole units its available balance pays for.
func (s *Service) ServiceAvailabilityAt(ctx context.Context, svc *ent.Service, acc *ent.Account, variant *string) (ServiceOffer, error) {
	sp, err := s.Spendable(ctx, svc, acc)
	if err != nil {
		return ServiceOffer{}, err
	}
	price := svc.Price
	if variant != nil {
		if price, err = s.RateOf(ctx, svc, *variant); err != nil {
			return ServiceOffer{}, err
		}
	}
	return sp.At(price), nil
}

// Spendable is what an account can spend on a service: its available
// balance in the service's currency, or why it cannot spend on it at all.
// One read answers every rate of the card (At).
type Spendable struct {
	Available int64
	Reason    Code // set: nothing can be bought, whatever the rate
}

// At is the offer at price per unit.
func (sp Spendable) At(price int64) ServiceOffer {
	if sp.Reason != "" {
		return ServiceOffer{Availability: Availability{Reason: sp.Reason}}
	}
	if sp.Available < price {
		return ServiceOffer{Availability: Availability{Reason: CodeInsufficientCredits}}
	}
	units := int64(math.MaxInt32)
	if price > 0 {
		units = min(sp.Available/price, math.MaxInt32)
	}
	return ServiceOffer{Availability: Availability{Available: true}, UnitsLeft: int(units)}
}

// Spendable answers for acc, or for the viewer's own account when acc is
// nil (a system admin without an account gets NOT_ELIGIBLE).
func (s *Service) Spendable(ctx context.Context, svc *ent.Service, acc *ent.Account) (Spendable, error) {
	if acc == nil {
		var err error
		acc, err = s.Account(ctx, nil)
		if CodeOf(err) == CodeBadInput {
			return Spendable{Reason: CodeNotEligible}, nil
		}
		if err != nil {
			return Spendable{}, err
		}
	}
	if acc.AgencyID != svc.AgencyID {
		return Spendable{Reason: CodeNotEligible}, nil
	}
	if reason := serviceGate(acc.Edges.Agency, svc); reason != "" {
		return Spendable{Reason: reason}, nil
	}
	b, err := s.balanceIn(ctx, acc, svc.Currency)
	if err != nil {
		return Spendable{}, err
	}
	return Spendable{Available: b.Available}, nil
}
