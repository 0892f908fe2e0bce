package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Where the CPU goes: the CPU time each party consumes during a run, read
// from the kernel before and after it. The gateway is a child process
// (/proc/<pid>/stat), the load generator is this process (getrusage), the
// pgbench ceiling is a child waited for (its rusage), and PostgreSQL is
// every process named postgres (the postmaster's reaped-children times
// count the backends that exited during the run). The machine's busy time
// comes from /proc/stat, so it also holds whatever else runs on the host.

// clockTick is the unit of /proc times (USER_HZ, 100 on every Linux ABI).
const clockTick = 10 * time.Millisecond

// cpuUse is the CPU time consumed during one run.
type cpuUse struct {
	client  time.Duration // the load generator, or pgbench for a ceiling run
	gateway time.Duration // zero for a ceiling run
	pg      time.Duration // every PostgreSQL process
	machine time.Duration // all cores' busy time
	busy    float64       // machine / (cores × wall time)
}

// cpuSample is the counters at one instant.
type cpuSample struct {
	self, gateway, pg, busy, total time.Duration
}

// sampleCPU reads the counters; gatewayPID 0 skips the gateway. This
// process's own time is read last (and first in the matching sample after
// the run: see since) so the /proc scan is not charged to the load.
func sampleCPU(gatewayPID int) cpuSample {
	var s cpuSample
	s.pg = postgresCPU()
	if gatewayPID != 0 {
		s.gateway, _ = procCPU(strconv.Itoa(gatewayPID))
	}
	s.busy, s.total = machineCPU()
	s.self = selfCPU()
	return s
}

// since returns the use from before to now.
func (before cpuSample) since(gatewayPID int) cpuUse {
	self := selfCPU()
	now := sampleCPU(gatewayPID)
	u := cpuUse{
		client:  self - before.self,
		gateway: now.gateway - before.gateway,
		pg:      now.pg - before.pg,
		machine: now.busy - before.busy,
	}
	if t := now.total - before.total; t > 0 {
		u.busy = float64(u.machine) / float64(t)
	}
	return u
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU returns a process's utime+stime plus its reaped children's
// (cutime+cstime) from /proc/<pid>/stat, and its comm.
func procCPU(pid string) (time.Duration, string) {
	data, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, ""
	}
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return 0, ""
	}
	f := strings.Fields(string(data[end+1:])) // f[0] is field 3, state
	if len(f) < 15 {
		return 0, ""
	}
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick, string(data[open+1 : end])
}

// postgresCPU sums the CPU of every process whose comm is postgres.
func postgresCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var sum time.Duration
	for _, d := range dirs {
		if name := d.Name(); name[0] >= '0' && name[0] <= '9' {
			if t, comm := procCPU(name); comm == "postgres" {
				sum += t
			}
		}
	}
	return sum
}

// machineCPU returns all cores' busy and total time from /proc/stat.
func machineCPU() (busy, total time.Duration) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:9] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += time.Duration(n) * clockTick
		if i != 3 && i != 4 { // idle, iowait
			busy += time.Duration(n) * clockTick
		}
	}
	return busy, total
}

// A ceiling run's backends exit when pgbench does, each carrying its CPU
// of the whole run: alive, it is read from its own /proc entry; reaped,
// from the postmaster's cutime. One that is reaped while postgresCPU
// scans /proc (after the postmaster's entry, before its own) is in
// neither, so a sample taken as they exit misses it: the ceiling run's
// "after" loses it and the next gateway run's "before" too, which then
// charges a whole pgbench backend's CPU to the gateway (at 8 clients, an
// eighth of the ceiling run's PostgreSQL time). So after pgbench ends, the
// ceiling's sample waits until its backends are gone.

// postgresPIDs lists the PostgreSQL processes.
func postgresPIDs() map[string]bool {
	pids := map[string]bool{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if name := d.Name(); name[0] >= '0' && name[0] <= '9' {
			if _, comm := procCPU(name); comm == "postgres" {
				pids[name] = true
			}
		}
	}
	return pids
}

// awaitBackendsGone waits, at most limit, until no PostgreSQL process that
// was not in before and serves database db (its process title names it),
// or is exiting (a zombie's title is empty), is left: reaped, its CPU is
// in the postmaster's.
func awaitBackendsGone(db string, before map[string]bool, limit time.Duration) {
	var left []string
	for pid := range postgresPIDs() {
		if before[pid] {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if err != nil {
			continue // gone already
		}
		title := strings.Fields(strings.ReplaceAll(string(cmd), "\x00", " "))
		if len(title) == 0 || slices.Contains(title, db) {
			left = append(left, pid)
		}
	}
	for deadline := time.Now().Add(limit); len(left) > 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
		left = slices.DeleteFunc(left, func(pid string) bool {
			_, err := os.Stat(filepath.Join("/proc", pid))
			return err != nil
		})
	}
}
