package credits

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"creditgate/ent"
	"creditgate/ent/invoice"
	"creditgate/gid"
	"creditgate/money"
)

// An invoice's printable document is reached by a link that needs no
// token (it is e-mailed, opened by whoever pays): /invoices/{id}/document
// ?exp=<unix>&sig=<HMAC-SHA256 of id and exp>. The id is random and the
// signature binds it to its expiry, so a link names one invoice until it
// expires and says nothing of any other.

// DefaultInvoiceLinkTTL is how long a document link works.
const DefaultInvoiceLinkTTL = 7 * 24 * time.Hour

// invoiceLinks signs document links; the zero value signs with a random
// secret made at first use (links then die with the process).
type invoiceLinks struct {
	mu     sync.Mutex
	secret []byte
	ttl    time.Duration
	base   string // "": root-relative links
}

// UseInvoiceLinks sets the key that signs invoice document links (nil:
// keep the one in use, random at first use), how long a link works (0: a
// week) and the public URL links start with ("": root-relative). Instances
// behind one address need the same secret.
func (s *Service) UseInvoiceLinks(secret []byte, ttl time.Duration, baseURL string) {
	l := &s.links
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(secret) > 0 {
		l.secret = secret
	}
	l.ttl, l.base = ttl, strings.TrimRight(baseURL, "/")
}

func (l *invoiceLinks) key() ([]byte, time.Duration, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secret == nil {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, 0, "", fmt.Errorf("making the invoice link secret: %w", err)
		}
		l.secret = k
	}
	ttl := l.ttl
	if ttl <= 0 {
		ttl = DefaultInvoiceLinkTTL
	}
	return l.secret, ttl, l.base, nil
}

func linkSig(secret []byte, id gid.ID, exp int64) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "invoice-document\x00%s\x00%d", id, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// InvoiceDocumentURL is a fresh link to inv's printable document.
func (s *Service) InvoiceDocumentURL(ctx context.Context, inv *ent.Invoice) (string, error) {
	return s.documentURL(inv.ID)
}

func (s *Service) documentURL(id gid.ID) (string, error) {
	secret, ttl, base, err := s.links.key()
	if err != nil {
		return "", err
	}
	exp := s.clock().Add(ttl).Unix()
	q := url.Values{"exp": {strconv.FormatInt(exp, 10)}, "sig": {linkSig(secret, id, exp)}}
	return base + "/invoices/" + url.PathEscape(string(id)) + "/document?" + q.Encode(), nil
}

// Why a document link is refused; the handler answers 404 and 410, and
// neither says whether the invoice exists.
var (
	ErrLinkInvalid = errors.New("no such invoice document")
	ErrLinkExpired = errors.New("this invoice link has expired")
)

// InvoiceDocument is what the printable invoice shows.
type InvoiceDocument struct {
	Number      string
	Kind        string
	Status      string // as read: OVERDUE past due
	AgencyName  string
	AccountName string
	IssuedAt    time.Time
	DueAt       *time.Time
	PaidAt      *time.Time
	Amount      string // the amount due, in the currency's digits
	Currency    string
	BankDetails string
	VoidReason  string
}

// InvoiceDocumentFor checks a document link (id, exp and sig as the link
// carries them) and returns the invoice it names: ErrLinkInvalid for a
// bad signature (or an invoice gone), ErrLinkExpired for a genuine link
// past its expiry.
func (s *Service) InvoiceDocumentFor(ctx context.Context, id, exp, sig string) (*InvoiceDocument, error) {
	secret, _, _, err := s.links.key()
	if err != nil {
		return nil, err
	}
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(linkSig(secret, gid.ID(id), at))) {
		return nil, ErrLinkInvalid
	}
	if s.clock().Unix() > at {
		return nil, ErrLinkExpired
	}
	inv, err := s.db.Invoice.Query().Where(invoice.ID(gid.ID(id))).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(System(ctx))
	if ent.IsNotFound(err) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("loading invoice: %w", err)
	}
	acc := inv.Edges.Account
	d := &InvoiceDocument{
		Number: inv.Number, Kind: inv.Kind.String(), Status: s.InvoiceStatus(inv),
		AgencyName: acc.Edges.Agency.Name, AccountName: acc.Name,
		IssuedAt: inv.CreatedAt.UTC(), DueAt: inv.DueAt, PaidAt: inv.PaidAt,
		Amount: string(money.Format(inv.Amount, inv.Currency)), Currency: inv.Currency,
	}
	if inv.BankDetails != nil {
		d.BankDetails = *inv.BankDetails
	}
	if inv.VoidReason != nil {
		d.VoidReason = *inv.VoidReason
	}
	return d, nil
}
