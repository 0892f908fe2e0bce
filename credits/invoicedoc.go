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

// linkSig signs a link to the document of kind what about subject until
// exp: the kind keeps a signature for one kind of document from opening
// another (an invoice id is no statement).
func linkSig(secret []byte, what, subject string, exp int64) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s\x00%s\x00%d", what, subject, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signedLink is base+path?params&exp=&sig=, a link to the document of kind
// what about subject that works until the link TTL from now.
func (s *Service) signedLink(what, subject, path string, params url.Values) (string, error) {
	secret, ttl, base, err := s.links.key()
	if err != nil {
		return "", err
	}
	exp := s.clock().Add(ttl).Unix()
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("exp", strconv.FormatInt(exp, 10))
	q.Set("sig", linkSig(secret, what, subject, exp))
	return base + path + "?" + q.Encode(), nil
}

// checkLink is nil when sig signs (what, subject, exp) and exp has not
// passed: ErrLinkInvalid for a bad signature, ErrLinkExpired past it.
func (s *Service) checkLink(what, subject, exp, sig string) error {
	secret, _, _, err := s.links.key()
	if err != nil {
		return err
	}
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(linkSig(secret, what, subject, at))) {
		return ErrLinkInvalid
	}
	if s.clock().Unix() > at {
		return ErrLinkExpired
	}
	return nil
}

const invoiceDocumentLink = "invoice-document"

// InvoiceDocumentURL is a fresh link to inv's printable document.
func (s *Service) InvoiceDocumentURL(ctx context.Context, inv *ent.Invoice) (string, error) {
	return s.documentURL(inv.ID)
}

func (s *Service) documentURL(id gid.ID) (string, error) {
	return s.signedLink(invoiceDocumentLink, string(id), "/invoices/"+url.PathEscape(string(id))+"/document", nil)
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
	if err := s.checkLink(invoiceDocumentLink, id, exp, sig); err != nil {
		return nil, err
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
