package model

import (
	"context"

	"creditgate/money"
)

// ServiceRate is one line of a service's rate card as the API shows it.
// Units answers its estimatedUnitsLeft; the rates of one service share the
// one balance read behind it.
type ServiceRate struct {
	Variant string                                 `json:"variant"`
	Price   money.Decimal                          `json:"price"`
	Units   func(ctx context.Context) (int, error) `json:"-"`
}
