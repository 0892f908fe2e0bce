// Package enums holds GraphQL enums that the ent models themselves return
// (see ent/posting_gql.go), so gqlgen binds those fields to plain methods:
// no resolver goroutine per list element.
package enums

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// TransactionType is a transaction's direction: IN credits the account,
// OUT debits it.
type TransactionType string

const (
	TransactionTypeIn  TransactionType = "IN"
	TransactionTypeOut TransactionType = "OUT"
)

var AllTransactionType = []TransactionType{
	TransactionTypeIn,
	TransactionTypeOut,
}

func (e TransactionType) IsValid() bool {
	switch e {
	case TransactionTypeIn, TransactionTypeOut:
		return true
	}
	return false
}

func (e TransactionType) String() string {
	return string(e)
}

func (e *TransactionType) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("enums must be strings")
	}

	*e = TransactionType(str)
	if !e.IsValid() {
		return fmt.Errorf("%s is not a valid TransactionType", str)
	}
	return nil
}

func (e TransactionType) MarshalGQL(w io.Writer) {
	_, _ = fmt.Fprint(w, strconv.Quote(e.String()))
}

func (e *TransactionType) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	return e.UnmarshalGQL(s)
}

func (e TransactionType) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	e.MarshalGQL(&buf)
	return buf.Bytes(), nil
}
