package db

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// The dialer's sockets carry TCP_USER_TIMEOUT and keep-alives.
func TestDialerSetsUserTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := &dialer{g: &guard{connectTimeout: time.Second}}
	d.nd.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3}
	d.nd.Control = userTimeout(DefaultTCPUserTimeout)
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ut, ka int
	var uerr, kerr error
	_ = raw.Control(func(fd uintptr) {
		ut, uerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
		ka, kerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	})
	if uerr != nil || kerr != nil {
		t.Fatal(uerr, kerr)
	}
	if ut != int(DefaultTCPUserTimeout/time.Millisecond) || ka != 1 {
		t.Fatalf("TCP_USER_TIMEOUT %d ms, SO_KEEPALIVE %d", ut, ka)
	}
}
