package db

import (
	"net"
	"syscall"
)

// peerGone reports whether an idle connection's peer has closed or reset it
// (or sent something unasked, such as PostgreSQL's "terminating connection"
// notice before it closes): one non-blocking peek, no data consumed. An idle
// pooled connection whose server restarted, or that a proxy reset, would
// otherwise fail its next query halfway, where database/sql cannot retry it.
func peerGone(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			// Nothing to read: alive and idle.
		case err != nil, n >= 0:
			gone = true // reset, end of stream, or unexpected bytes
		}
		return true // never wait for readiness
	})
	return gone
}
