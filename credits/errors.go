package credits

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

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
	CodeUnavailable            Code = "UNAVAILABLE" // nothing was done: retry after RetryAfter
	CodeInternal               Code = "INTERNAL"
)

// Error is a failure the client may see: a contract code and a message in
// plain words. Anything else that reaches the API is INTERNAL.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, in whole seconds, says when to try again (UNAVAILABLE).
	RetryAfter int
	cause      error // logged, never shown
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.cause }

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

// unavailableRetry is the retryAfter of UNAVAILABLE, in seconds: a
// connection refused or a full pool usually clears within a few.
const unavailableRetry = 2

// nothingDone marks an error met before anything was written (a
// transaction that could not start or never committed, a read before any
// write): when it says the database could not be reached, the client is
// told UNAVAILABLE, safe to retry. Any other error is returned as is. Only
// call it where nothing of the request can have been done: a commit of
// unknown outcome, or a failure after a committed write or a provider's
// charge, is never "nothing done".
func nothingDone(err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) || !unreachable(err) {
		return err
	}
	return &Error{Code: CodeUnavailable, RetryAfter: unavailableRetry,
		Message: "the database cannot be reached; nothing was done: retry", cause: err}
}

// unreachable says whether err means the database could not be reached or
// had no connection to give: refused or broken connections, a connection
// pool that stayed full until the deadline, a server refusing connections
// (too many, starting, shutting down), SQLite's lock still held after its
// busy timeout. It says nothing about what was done: see nothingDone.
func unreachable(err error) bool {
	var (
		ne  net.Error
		sqe interface{ SQLState() string } // lib/pq
		lte interface{ Code() int }        // modernc.org/sqlite
	)
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.As(err, &ne):
		return true
	case errors.As(err, &sqe):
		st := sqe.SQLState()
		return strings.HasPrefix(st, "08") || st == "53300" || st == "57P01" || st == "57P02" || st == "57P03"
	case errors.As(err, &lte):
		c := lte.Code() & 0xff
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// RetryAfter is how many seconds the client should wait before retrying
// after err (UNAVAILABLE), or 0 when it says nothing.
func RetryAfter(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeUnavailable {
		return max(e.RetryAfter, 1)
	}
	return 0
}

// CodeOf maps any error to the contract's code. An error that is not an
// *Error is INTERNAL even when the database was unreachable: only
// nothingDone knows that nothing was done.
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
