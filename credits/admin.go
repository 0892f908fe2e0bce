package credits

import (
	"context"
	"fmt"
	"strings"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/gid"
	"creditgate/money"
)

// NewAgency describes createAgency.
type NewAgency struct {
	Name                  string
	DefaultCurrency       string
	CreditPaymentsEnabled bool
}

// CreateAgency creates an agency with its pool account (system admins).
func (s *Service) CreateAgency(ctx context.Context, in NewAgency) (*ent.Agency, error) {
	if _, err := requireRole(ctx, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	name, err := cleanName("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	cur, err := money.NormalizeCurrency(in.DefaultCurrency)
	if err != nil {
		return nil, badInput("defaultCurrency: %v", err)
	}
	var ag *ent.Agency
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		ag, err = tx.Agency.Create().SetName(name).SetDefaultCurrency(cur).
			SetCreditPaymentsEnabled(in.CreditPaymentsEnabled).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating agency: %w", err)
		}
		pool, err := tx.Account.Create().SetAgencyID(ag.ID).SetName(poolName(name)).
			SetKind(account.KindAGENCY).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating pool account: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "createAgency", AgencyID: ag.ID, AccountID: pool.ID, TargetID: ag.ID,
			Summary: fmt.Sprintf("created agency %s %q (%s)", ag.ID, name, cur)})
	})
	if err != nil {
		return nil, err
	}
	return ag.Unwrap(), nil
}

// agencyFor resolves the agency an admin mutation is about: the agency
// admin's own (naming another is NOT_FOUND), or the named one for a system
// admin, who must name it.
func (s *Service) agencyFor(ctx context.Context, id *gid.ID) (*ent.Agency, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	if id == nil && v.Role == auth.RoleSystemAdmin {
		return nil, badInput("agencyId is required for a system admin")
	}
	return s.Agency(ctx, id)
}

// CreateAccount creates a client account in an agency.
func (s *Service) CreateAccount(ctx context.Context, agencyID *gid.ID, name string) (*ent.Account, error) {
	ag, err := s.agencyFor(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	if name, err = cleanName("name", name, 200); err != nil {
		return nil, err
	}
	var acc *ent.Account
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if acc, err = tx.Account.Create().SetAgencyID(ag.ID).SetName(name).SetKind(account.KindCLIENT).Save(ctx); err != nil {
			return fmt.Errorf("creating account: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "createAccount", AgencyID: ag.ID, AccountID: acc.ID, TargetID: acc.ID,
			Summary: fmt.Sprintf("created account %s %q", acc.ID, name)})
	})
	if err != nil {
		return nil, err
	}
	acc = acc.Unwrap()
	acc.Edges.Agency = ag
	return acc, nil
}

// AgencySettings describes updateAgencySettings; nil fields stay as they are.
type AgencySettings struct {
	CreditPaymentsEnabled *bool
	DefaultCurrency       *string
}

// UpdateAgencySettings turns credit payments on or off and sets the default
// currency.
func (s *Service) UpdateAgencySettings(ctx context.Context, agencyID *gid.ID, in AgencySettings) (*ent.Agency, error) {
	ag, err := s.agencyFor(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	var cur string
	var said []string
	if in.CreditPaymentsEnabled != nil {
		said = append(said, fmt.Sprintf("credit payments %s", onOff(*in.CreditPaymentsEnabled)))
	}
	if in.DefaultCurrency != nil {
		if cur, err = money.NormalizeCurrency(*in.DefaultCurrency); err != nil {
			return nil, badInput("defaultCurrency: %v", err)
		}
		said = append(said, "default currency "+cur)
	}
	if len(said) == 0 {
		said = append(said, "nothing changed")
	}
	err = s.inTxSettings(ctx, ag.ID, true, func(tx *ent.Tx) error {
		upd := tx.Agency.UpdateOne(ag)
		if in.CreditPaymentsEnabled != nil {
			upd.SetCreditPaymentsEnabled(*in.CreditPaymentsEnabled)
		}
		if cur != "" {
			upd.SetDefaultCurrency(cur)
		}
		if ag, err = upd.Save(ctx); err != nil {
			return fmt.Errorf("updating agency: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "updateAgencySettings", AgencyID: ag.ID, TargetID: ag.ID,
			Summary: "agency settings: " + strings.Join(said, ", ")})
	})
	if err != nil {
		return nil, err
	}
	return ag.Unwrap(), nil
}

// NewInvoice describes createInvoice.
type NewInvoice struct {
	AccountID      gid.ID
	Number         string
	Amount         money.Decimal
	Currency       *string
	CreditEligible bool
}

// CreateInvoice bills a client account of the admin's agency.
func (s *Service) CreateInvoice(ctx context.Context, in NewInvoice) (*ent.Invoice, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, &in.AccountID)
	if err != nil {
		return nil, err
	}
	if acc.Kind != account.KindCLIENT {
		return nil, badInput("accountId: invoices are for client accounts, not the agency pool")
	}
	number, err := cleanName("number", in.Number, 100)
	if err != nil {
		return nil, err
	}
	cur, err := currencyFor(acc.Edges.Agency, in.Currency)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	amount, err := parsePrice("amount", in.Amount, cur)
	if err != nil {
		return nil, err
	}
	var inv *ent.Invoice
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		inv, err = tx.Invoice.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
			SetNumber(number).SetAmount(amount).SetCurrency(cur).SetCreditEligible(in.CreditEligible).Save(ctx)
		if ent.IsConstraintError(err) {
			return newErr(CodeConflict, "invoice number %q already exists in this agency", number)
		}
		if err != nil {
			return fmt.Errorf("creating invoice: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "createInvoice", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: inv.ID,
			Summary: fmt.Sprintf("created invoice %s %q of %s", inv.ID, number, fmtAmount(amount, cur))})
	})
	if err != nil {
		return nil, err
	}
	inv = inv.Unwrap()
	inv.Edges.Account = acc
	return inv, nil
}

// NewService describes createService.
type NewService struct {
	AgencyID       *gid.ID
	Name           string
	Price          money.Decimal
	Currency       *string
	CreditEligible bool
}

// CreateService adds a per-unit service (an SMS, an hour) to an agency.
func (s *Service) CreateService(ctx context.Context, in NewService) (*ent.Service, error) {
	ag, err := s.agencyFor(ctx, in.AgencyID)
	if err != nil {
		return nil, err
	}
	name, err := cleanName("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	cur, err := currencyFor(ag, in.Currency)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	price, err := parseAmount("price", in.Price, cur)
	if err != nil {
		return nil, err
	}
	var svc *ent.Service
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		svc, err = tx.Service.Create().SetAgencyID(ag.ID).SetName(name).SetPrice(price).
			SetCurrency(cur).SetCreditEligible(in.CreditEligible).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating service: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "createService", AgencyID: ag.ID, TargetID: svc.ID,
			Summary: fmt.Sprintf("created service %s %s at %s", svc.ID, name, fmtAmount(price, cur))})
	})
	if err != nil {
		return nil, err
	}
	svc = svc.Unwrap()
	svc.Edges.Agency = ag
	return svc, nil
}

// NewCreditPackage describes createCreditPackage.
type NewCreditPackage struct {
	AgencyID *gid.ID
	Name     string
	Credits  money.Decimal
	Price    money.Decimal
	Currency *string
}

// CreateCreditPackage adds a bundle of credits for a price.
func (s *Service) CreateCreditPackage(ctx context.Context, in NewCreditPackage) (*ent.CreditPackage, error) {
	ag, err := s.agencyFor(ctx, in.AgencyID)
	if err != nil {
		return nil, err
	}
	name, err := cleanName("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	cur, err := currencyFor(ag, in.Currency)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	credits, err := parseAmount("credits", in.Credits, cur)
	if err != nil {
		return nil, err
	}
	price, err := parsePrice("price", in.Price, cur)
	if err != nil {
		return nil, err
	}
	var pkg *ent.CreditPackage
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		pkg, err = tx.CreditPackage.Create().SetAgencyID(ag.ID).SetName(name).
			SetCredits(credits).SetPrice(price).SetCurrency(cur).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating package: %w", err)
		}
		return s.audit(ctx, tx, Audit{Action: "createCreditPackage", AgencyID: ag.ID, TargetID: pkg.ID,
			Summary: fmt.Sprintf("created package %s %q: %s for %s", pkg.ID, name, fmtAmount(credits, cur), fmtAmount(price, cur))})
	})
	if err != nil {
		return nil, err
	}
	return pkg.Unwrap(), nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
