// Package events carries committed changes to live subscribers. Changes are
// announced from inside the database transaction that makes them (on
// PostgreSQL with pg_notify, delivered only on COMMIT and in commit order),
// so nothing is announced that did not commit and nothing committed goes
// unannounced; each gateway instance listens once and fans out to its local
// subscribers through a Broker.
package events

import (
	"encoding/json"
	"time"

	"creditgate/gid"
)

// Channel is the PostgreSQL notification channel.
const Channel = "creditgate_events"

// Balance is an account's balance in one currency right after a commit.
type Balance struct {
	AccountID gid.ID    `json:"a"`
	AgencyID  gid.ID    `json:"g"`
	Currency  string    `json:"c"`
	Available int64     `json:"v"`
	Seq       int64     `json:"s"`
	UpdatedAt time.Time `json:"t"`
}

// Request says a credit request changed; subscribers re-read it in their
// own scope.
type Request struct {
	RequestID gid.ID `json:"r"`
	AccountID gid.ID `json:"a"`
	AgencyID  gid.ID `json:"g"`
	Status    string `json:"st"`
}

// Event is one announced change: exactly one field is set.
type Event struct {
	Balance *Balance `json:"b,omitempty"`
	Request *Request `json:"q,omitempty"`
}

// Encode is the notification payload (well under PostgreSQL's 8000 bytes).
func (e Event) Encode() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// Decode parses a notification payload.
func Decode(s string) (Event, error) {
	var e Event
	err := json.Unmarshal([]byte(s), &e)
	return e, err
}
