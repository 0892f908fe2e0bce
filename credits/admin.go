package credits

import (
	"context"
	"fmt"

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
		_, err = tx.Account.Create().SetAgencyID(ag.ID).SetName(poolName(name)).
			SetKind(account.KindAGENCY).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating pool account: %w", err)
		}
		return nil
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
	acc, err := s.db.Account.Create().SetAgencyID(ag.ID).SetName(name).SetKind(account.KindCLIENT).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating account: %w", err)
	}
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
	upd := s.db.Agency.UpdateOne(ag)
	if in.CreditPaymentsEnabled != nil {
		upd.SetCreditPaymentsEnabled(*in.CreditPaymentsEnabled)
	}
	if in.DefaultCurrency != nil {
		cur, err := money.NormalizeCurrency(*in.DefaultCurrency)
		if err != nil {
			return nil, badInput("defaultCurrency: %v", err)
		}
		upd.SetDefaultCurrency(cur)
	}
	ag, err = upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("updating agency: %w", err)
	}
	return ag, nil
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
	inv, err := s.db.Invoice.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
		SetNumber(number).SetAmount(amount).SetCurrency(cur).SetCreditEligible(in.CreditEligible).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, newErr(CodeConflict, "invoice number %q already exists in this agency", number)
	}
	if err != nil {
		return nil, fmt.Errorf("creating invoice: %w", err)
	}
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
	svc, err := s.db.Service.Create().SetAgencyID(ag.ID).SetName(name).SetPrice(price).
		SetCurrency(cur).SetCreditEligible(in.CreditEligible).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating service: %w", err)
	}
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
	pkg, err := s.db.CreditPackage.Create().SetAgencyID(ag.ID).SetName(name).
		SetCredits(credits).SetPrice(price).SetCurrency(cur).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating package: %w", err)
	}
	return pkg, nil
}
