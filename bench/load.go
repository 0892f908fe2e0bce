package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one kind of request, run against the gateway and as a
// pgbench script doing the same minimal SQL.
type scenario struct {
	read    bool
	hot     bool
	floor   bool   // also run against the floor server (floor.go), which has one answer
	op      string // pay, service, usage, usage-batch, hold, balance, history
	ceiling string // pgbench script
	// accept is the only error code the scenario tolerates: any other
	// fails the bench (after the report). Empty: errors are only reported.
	accept string
}

var scenarios = map[string]scenario{
	"pay-spread":         {op: "pay", ceiling: "pay"},
	"pay-hot":            {op: "pay", hot: true, ceiling: "pay"},
	"buy-service-spread": {op: "service", ceiling: "service"},
	"buy-service-hot":    {op: "service", hot: true, ceiling: "service"},
	"read-balance":       {op: "balance", read: true, ceiling: "balance", floor: true},
	"read-history":       {op: "history", read: true, hot: true, ceiling: "history"},
	// Metered usage by a service: one event a call, or a call of
	// usageBatch events over consecutive accounts (its ceiling debits
	// the same number of wallets with set-based SQL in one transaction).
	"usage-single": {op: "usage", ceiling: "service"},
	"usage-batch":  {op: "usage-batch", ceiling: "usage-batch"},
	// A hold's lifecycle on the hot account, by a service: createHold,
	// then 4 partial captures and a final one that releases the rest
	// (holdLifecycle). One tx is one lifecycle of 6 mutations.
	"hold-hot": {op: "hold", hot: true, ceiling: "hold", accept: "INSUFFICIENT_CREDITS"},
}

// usageBatch is how many events a usage-batch call carries.
const usageBatch = 100

const (
	payMutation     = `mutation($i: ID!) { payInvoiceWithCredit(input: {invoiceId: $i}) { transaction { id runningBalance } } }`
	serviceMutation = `mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { transaction { id runningBalance } } }`
	balanceQuery    = `{ balance { available } }`
	historyQuery    = `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`
	usageMutation   = `mutation($ev: [UsageEventInput!]!) { recordUsage(input: {events: $ev}) { recorded refused results { error { code } } } }`
	holdMutation    = `mutation($a: ID!, $x: Decimal!) { createHold(input: {accountId: $a, amount: $x, currency: "USD"}) { hold { id } } }`
	captureMutation = `mutation($h: ID!, $x: Decimal!, $f: Boolean!) { captureHold(input: {holdId: $h, amount: $x, final: $f}) { transaction { id runningBalance } } }`
)

// A hold-hot lifecycle holds holdAmount and captures captureAmount
// holdCaptures times, the last capture final: it releases the rest
// (0.01). The ceiling script moves the same amounts in cents.
const (
	holdAmount    = "0.06"
	captureAmount = "0.01"
	holdCaptures  = 5
)

// runResult is one timed run against the gateway (or the floor server:
// then cpu.gateway is the floor process's).
type runResult struct {
	ok       int
	errors   map[string]int
	elapsed  time.Duration
	p50, p99 time.Duration
	cpu      cpuUse
}

func (r runResult) tps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// loadGateway runs clients concurrent loops of the scenario's request for d.
func (e *env) loadGateway(ctx context.Context, sc scenario, clients int, d time.Duration) (runResult, error) {
	return e.load(ctx, e.url, e.gateway.Process.Pid, sc, clients, d)
}

// load runs the loops against the server at url, whose process is pid.
func (e *env) load(ctx context.Context, url string, pid int, sc scenario, clients int, d time.Duration) (runResult, error) {
	conns := make([]*wireConn, clients)
	for i := range conns {
		w, err := newWireConn(ctx, url)
		if err != nil {
			return runResult{}, err
		}
		conns[i] = w
		defer w.Close()
	}
	pre := e.prebuild(sc, conns[0].host)
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      = map[string]int{}
		ok        atomic.Int64
		fatal     error
		wg        sync.WaitGroup
	)
	cpu := sampleCPU(pid)
	deadline := time.Now().Add(d)
	start := time.Now()
	for _, w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			var vars []byte // the variables' JSON, reused
			for time.Now().Before(deadline) && ctx.Err() == nil {
				var (
					code string
					err  error
					t0   time.Time
				)
				if sc.op == "hold" { // a unit of several requests
					t0 = time.Now()
					code, vars, err = e.holdLifecycle(w, vars)
				} else {
					var c call
					if c, err = e.request(sc, pre, vars[:0]); err != nil {
						mu.Lock()
						fatal = err
						mu.Unlock()
						return
					}
					vars = c.vars
					t0 = time.Now()
					code, err = e.send(w, c, nil)
				}
				local = append(local, time.Since(t0))
				switch {
				case err != nil:
					mu.Lock()
					errs["transport"]++
					mu.Unlock()
				case code != "":
					mu.Lock()
					errs[code]++
					mu.Unlock()
				default:
					ok.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	use := cpu.since(pid)
	if fatal != nil {
		return runResult{}, fatal
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return runResult{
		ok: int(ok.Load()), errors: errs, elapsed: elapsed,
		p50: percentile(latencies, 0.50), p99: percentile(latencies, 0.99), cpu: use,
	}, nil
}

var (
	payDoc     = newDocument(payMutation)
	serviceDoc = newDocument(serviceMutation)
	balanceDoc = newDocument(balanceQuery)
	historyDoc = newDocument(historyQuery)
	usageDoc   = newDocument(usageMutation)
	holdDoc    = newDocument(holdMutation)
	captureDoc = newDocument(captureMutation)
)

// call is one request to send: a document, its variables' JSON (nil:
// none) and its token; pre, when set, is the whole first HTTP request,
// built before the run.
type call struct {
	token string
	doc   *document
	vars  []byte
	pre   []byte
}

// prebuilt holds the first HTTP request of the scenarios whose document
// has no variables, per token: a read then costs this process one write.
type prebuilt struct {
	balance [][]byte // per spread client
	history []byte
}

func (e *env) prebuild(sc scenario, host string) prebuilt {
	var p prebuilt
	switch sc.op {
	case "balance":
		p.balance = make([][]byte, len(e.spread))
		for i, cl := range e.spread {
			p.balance[i] = appendRequest(nil, host, cl.token, balanceDoc.first(e.apq), nil)
		}
	case "history":
		p.history = appendRequest(nil, host, e.hot.token, historyDoc.first(e.apq), nil)
	}
	return p
}

var spreadNext, hotNext, accountNext, usageKey atomic.Int64

// request picks the next request of the scenario: a fresh invoice for
// payments (round-robin over accounts when spread), the next account for
// services and reads. Its variables are appended to vars.
func (e *env) request(sc scenario, pre prebuilt, vars []byte) (call, error) {
	switch sc.op {
	case "pay":
		list, next := e.spreadInvs, &spreadNext
		if sc.hot {
			list, next = e.hotInvs, &hotNext
		}
		i := next.Add(1) - 1
		if int(i) >= len(list) {
			return call{}, fmt.Errorf("ran out of seeded invoices (%d): use a shorter -duration", len(list))
		}
		vars = appendString(append(vars, `{"i":`...), string(list[i].id))
		return call{token: list[i].token, doc: payDoc, vars: append(vars, '}')}, nil
	case "service":
		cl := e.hot
		if !sc.hot {
			cl = e.spread[int(accountNext.Add(1))%len(e.spread)]
		}
		vars = appendString(append(vars, `{"s":`...), string(e.service))
		return call{token: cl.token, doc: serviceDoc, vars: append(vars, '}')}, nil
	case "usage", "usage-batch":
		n := 1
		if sc.op == "usage-batch" {
			n = usageBatch
		}
		first := int(accountNext.Add(int64(n))) - n
		vars = append(vars, `{"ev":[`...)
		for i := range n {
			if i > 0 {
				vars = append(vars, ',')
			}
			vars = appendString(append(vars, `{"accountId":`...), string(e.spread[(first+i)%len(e.spread)].account))
			vars = strconv.AppendInt(append(vars, `,"idempotencyKey":"bench-`...), usageKey.Add(1), 10)
			vars = appendString(append(vars, `","serviceId":`...), string(e.service))
			vars = append(vars, '}')
		}
		return call{token: e.serviceToken, doc: usageDoc, vars: append(vars, "]}"...)}, nil
	case "balance":
		i := int(accountNext.Add(1)) % len(e.spread)
		return call{token: e.spread[i].token, doc: balanceDoc, pre: pre.balance[i]}, nil
	case "history":
		return call{token: e.hot.token, doc: historyDoc, pre: pre.history}, nil
	}
	return call{}, fmt.Errorf("unknown operation %q", sc.op)
}

// holdLifecycle runs one hold-hot unit as the service: createHold on the
// hot account, then holdCaptures captures, the last one final. It stops
// at the first error and returns its code; a hold left ACTIVE that way
// expires in an hour. vars is a buffer for the variables, returned grown.
func (e *env) holdLifecycle(w *wireConn, vars []byte) (string, []byte, error) {
	var created struct {
		CreateHold struct {
			Hold struct{ ID string }
		}
	}
	vars = appendString(append(vars[:0], `{"a":`...), string(e.hot.account))
	vars = append(appendString(append(vars, `,"x":`...), holdAmount), '}')
	if code, err := e.send(w, call{token: e.serviceToken, doc: holdDoc, vars: vars}, &created); code != "" || err != nil {
		return code, vars, err
	}
	for i := 1; i <= holdCaptures; i++ {
		vars = strconv.AppendBool(append(vars[:0], `{"f":`...), i == holdCaptures)
		vars = appendString(append(vars, `,"h":`...), created.CreateHold.Hold.ID)
		vars = append(appendString(append(vars, `,"x":`...), captureAmount), '}')
		if code, err := e.send(w, call{token: e.serviceToken, doc: captureDoc, vars: vars}, nil); code != "" || err != nil {
			return code, vars, err
		}
	}
	return "", vars, nil
}

// send posts the request the way a mobile client with automatic persisted
// queries does: the hash alone, and the full query only when the gateway
// does not know the hash yet. With -apq=false every request carries the
// query text. It returns the first error's code, if any; without one, the
// answer's data goes into data unless it is nil.
func (e *env) send(w *wireConn, c call, data any) (string, error) {
	req := c.pre
	if req == nil {
		w.req = appendRequest(w.req[:0], w.host, c.token, c.doc.first(e.apq), c.vars)
		req = w.req
	}
	if err := w.roundTrip(req); err != nil {
		return "", err
	}
	code, err := w.result(data)
	if !e.apq || err != nil || code != "PERSISTED_QUERY_NOT_FOUND" {
		return code, err
	}
	w.req = appendRequest(w.req[:0], w.host, c.token, c.doc.full, c.vars)
	if err := w.roundTrip(w.req); err != nil {
		return "", err
	}
	return w.result(data)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
