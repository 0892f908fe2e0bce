// Package gid defines the identifiers the API shows: a short type prefix and
// 128 random bits. They are opaque on purpose: unlike sequential integers they
// reveal neither how many objects exist nor in which order they were made, and
// the prefix lets node(id:) find the table without a lookup.
package gid

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/base32"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ID is a prefixed random identifier, e.g. "acc_5k2m…".
type ID string

// Prefixes of every entity type, in one place so they cannot collide.
const (
	Agency          = "agy"
	Account         = "acc"
	Balance         = "bal"
	Journal         = "jnl"
	Posting         = "txn"
	CreditRequest   = "req"
	Invoice         = "inv"
	Service         = "svc"
	ServiceRate     = "rte"
	CreditPackage   = "pkg"
	Payment         = "pay"
	Idempotency     = "idk"
	Card            = "crd"
	TopUpRule       = "atu"
	AlertRule       = "alr"
	Job             = "job"
	APIKey          = "key"
	Hold            = "hld"
	AuditEvent      = "aud"
	WebhookEndpoint = "whe"
	WebhookEvent    = "wev"
	WebhookDelivery = "whd"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns a fresh ID with the given prefix.
func New(prefix string) ID {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fromBytes(prefix, &b)
}

// fromBytes is the id of prefix and b: prefix, "_", b in enc. Written into
// one Builder, whose String does not copy: one allocation per id, not two
// (EncodeToString's, then the concatenation's).
func fromBytes(prefix string, b *[16]byte) ID {
	var text [26]byte // enc.EncodedLen(16)
	enc.Encode(text[:], b[:])
	var id strings.Builder
	id.Grow(len(prefix) + 1 + len(text))
	id.WriteString(prefix)
	id.WriteByte('_')
	id.Write(text[:])
	return ID(id.String())
}

// NewFunc returns a generator for ent's DefaultFunc.
func NewFunc(prefix string) func() ID { return func() ID { return New(prefix) } }

// Prefix returns the type prefix of id, or "" when id is malformed.
func (id ID) Prefix() string {
	p, rest, ok := strings.Cut(string(id), "_")
	if !ok || len(rest) != 26 {
		return ""
	}
	return p
}

// MarshalGQL writes the ID as a GraphQL ID (a JSON string).
func (id ID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(id))) }

// UnmarshalGQL accepts a string (or an ID: ent's generated Noder passes
// one). A malformed one is kept as is: it can never match a row, so looking
// it up answers NOT_FOUND like any unknown id.
func (id *ID) UnmarshalGQL(v any) error {
	switch v := v.(type) {
	case string:
		*id = ID(v)
	case ID:
		*id = v
	default:
		return fmt.Errorf("an ID must be a string, got %T", v)
	}
	return nil
}

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(v)
	default:
		return fmt.Errorf("gid: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
