//go:build !linux

package db

import (
	"syscall"
	"time"
)

// userTimeout: TCP_USER_TIMEOUT is Linux's; elsewhere keep-alives only.
func userTimeout(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
