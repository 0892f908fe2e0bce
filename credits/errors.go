package credits

import (
	"errors"
	"fmt"

	"creditgate/auth"
	"creditgate/money"
)

// Code is one of the contract's error codes (extensions.code).
type Code string

const (
	CodeUnauthenticated        Code = "UNAUTHENTICATED"
	CodeForbidden              Code = "FORBIDDEN"
	CodeNotFound               Code = "NOT_FOUND"
	CodeBadInput               Code = "BAD_USER_INPUT"
	CodeInsufficientCredits    Code = "INSUFFICIENT_CREDITS"
	CodeCreditPaymentsDisabled Code = "CREDIT_PAYMENTS_DISABLED"
	CodeNotEligible            Code = "NOT_ELIGIBLE"
	CodeAlreadyPaid            Code = "ALREADY_PAID"
	CodeConflict               Code = "CONFLICT"
	CodeRateLimited            Code = "RATE_LIMITED"
	CodeInternal               Code = "INTERNAL"
)

// Error is a failure the client may see: a contract code and a message in
// plain words. Anything else that reaches the API is INTERNAL.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

func newErr(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound does not say whether the object exists elsewhere: the same answer
// for "no such id" and "not yours".
func notFound(what string) *Error { return newErr(CodeNotFound, "%s not found", what) }

func forbidden() *Error {
	return newErr(CodeForbidden, "your role may not perform this operation")
}

func badInput(format string, args ...any) *Error { return newErr(CodeBadInput, format, args...) }

// CodeOf maps any error to the contract's code.
func CodeOf(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, money.ErrInvalidAmount), errors.Is(err, money.ErrInvalidCurrency):
		return CodeBadInput
	case errors.Is(err, auth.ErrUnauthenticated):
		return CodeUnauthenticated
	default:
		return CodeInternal
	}
}
