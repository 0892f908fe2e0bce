package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Docker cannot run on the CI machine, so the Dockerfile is checked here:
// BuildKit's own parser and linter (the rules `docker build --check`
// applies) read it, the test asserts what the image must be, and the
// binary is built with `make docker-binary`, whose go build line must be
// the Dockerfile's word for word.

// dockerfile parses ../Dockerfile; every BuildKit lint warning fails t.
func dockerfile(t *testing.T) ([]instructions.Stage, []byte) {
	t.Helper()
	src, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile: parser warning: %s (line %v)", w.Short, w.Location)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, loc []parser.Range) {
		t.Errorf("Dockerfile: lint %s: %s (%v; %s)", rule, msg, loc, url)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	return stages, src
}

func TestDockerfile(t *testing.T) {
	stages, _ := dockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s); want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if build.Name != "build" || !strings.HasPrefix(build.BaseName, "golang:") {
		t.Errorf("first stage: FROM %s AS %s; want FROM golang:… AS build", build.BaseName, build.Name)
	}
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") && final.BaseName != "scratch" {
		t.Errorf("final stage FROM %s: want distroless/static or scratch (no shell)", final.BaseName)
	}

	var (
		user, entrypoint string
		health           *instructions.HealthCheckCommand
		copiedBinary     bool
	)
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			if c.PrependShell {
				t.Errorf("final stage: %q is a shell-form RUN; the runtime image has no shell", c.String())
			}
		case *instructions.UserCommand:
			user = c.User
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("final stage: ENTRYPOINT in shell form; want exec form (JSON)")
			}
			entrypoint = strings.Join(c.CmdLine, " ")
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("final stage: CMD in shell form; want exec form (JSON)")
			}
		case *instructions.CopyCommand:
			if c.From == build.Name && slices.Contains(c.SourcePaths, "/out/creditgate") {
				copiedBinary = true
			}
		}
	}
	name, _, _ := strings.Cut(user, ":")
	switch name {
	case "", "root", "0":
		t.Errorf("final stage: USER %q; want a non-root user", user)
	}
	if !copiedBinary {
		t.Errorf("final stage does not COPY --from=%s /out/creditgate", build.Name)
	}
	if entrypoint != "/usr/local/bin/creditgate" {
		t.Errorf("ENTRYPOINT %q; want the binary", entrypoint)
	}
	switch {
	case health == nil:
		t.Error("final stage has no HEALTHCHECK")
	case len(health.Health.Test) < 3 || health.Health.Test[0] != "CMD" || health.Health.Test[1] != "/usr/local/bin/creditgate" || health.Health.Test[2] != "healthcheck":
		t.Errorf("HEALTHCHECK %q: want the exec form [\"/usr/local/bin/creditgate\", \"healthcheck\"] (no shell)", health.Health.Test)
	case health.Health.Interval == 0 || health.Health.Timeout == 0:
		t.Errorf("HEALTHCHECK without --interval and --timeout")
	}
}

// goBuildLine is the build stage's go build command (without RUN flags).
func goBuildLine(t *testing.T, stages []instructions.Stage) string {
	t.Helper()
	for _, c := range stages[0].Commands {
		if r, ok := c.(*instructions.RunCommand); ok {
			line := strings.Join(r.CmdLine, " ")
			if strings.Contains(line, "go build") {
				return strings.Join(strings.Fields(line), " ")
			}
		}
	}
	t.Fatal("the build stage has no RUN … go build")
	return ""
}

// TestDockerBuildFlags: `make docker-binary`, with the Dockerfile's build
// arguments and output path, runs exactly the Dockerfile's go build, and
// that command builds a static, trimmed, stamped binary.
func TestDockerBuildFlags(t *testing.T) {
	stages, _ := dockerfile(t)
	line := goBuildLine(t, stages)
	for _, want := range []string{"CGO_ENABLED=0 go build", " -trimpath ", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "-X main.date=${DATE}", "-o /out/creditgate ./server"} {
		if !strings.Contains(line, want) {
			t.Errorf("Dockerfile go build %q lacks %q", line, want)
		}
	}
	out, err := exec.Command("make", "-s", "-n", "-C", "..", "docker-binary", "GO=go",
		"VERSION=$${VERSION}", "COMMIT=$${COMMIT}", "DATE=$${DATE}", "DOCKER_BINARY=/out/creditgate").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n docker-binary: %v\n%s", err, out)
	}
	if got := strings.Join(strings.Fields(string(out)), " "); got != line {
		t.Errorf("make docker-binary and the Dockerfile build differently:\n  make:       %s\n  Dockerfile: %s", got, line)
	}
}

// TestDockerBinary builds the image's binary with `make docker-binary` and
// runs it as the image would: version, --help, and the HEALTHCHECK command
// against the binary serving on SQLite.
func TestDockerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway")
	}
	bin := filepath.Join(t.TempDir(), "creditgate")
	const ver, commit, date = "v0.0.0-dockertest", "0123abcd", "2026-12-05T00:00:00Z"
	mk := exec.Command("make", "-s", "-C", "..", "docker-binary", "GO=go",
		"VERSION="+ver, "COMMIT="+commit, "DATE="+date, "DOCKER_BINARY="+bin)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make docker-binary: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked (want CGO_ENABLED=0)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v; want a static binary", libs)
	}
	f.Close()

	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	runBin := func(extraEnv []string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(slices.Clone(env), extraEnv...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := runBin(nil, "version")
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	for _, want := range []string{"creditgate " + ver, commit, date, "go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("version printed %q; want %q in it", out, want)
		}
	}
	if out, err := runBin(nil, "--help"); err != nil || !strings.Contains(out, "healthcheck") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	// -trimpath: no path of this machine in the binary.
	raw, _ := os.ReadFile(bin)
	if wd, _ := os.Getwd(); bytes.Contains(raw, []byte(filepath.Dir(wd))) {
		t.Errorf("the binary contains the build directory %s: want -trimpath", filepath.Dir(wd))
	}

	// The HEALTHCHECK: no server yet fails, the serving binary passes.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	listen := "LISTEN_ADDR=" + addr
	if out, err := runBin([]string{listen}, "healthcheck", "--timeout", "1s"); err == nil {
		t.Fatalf("healthcheck passed with no gateway running:\n%s", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve")
	srv.Env = append(slices.Clone(env), listen, "SQLITE_PATH="+filepath.Join(t.TempDir(), "cg.db"), "JOB_WORKERS=0")
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := runBin([]string{listen}, "healthcheck", "--timeout", "1s")
		if err == nil {
			if !strings.Contains(out, "ok") {
				t.Errorf("healthcheck printed %q", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed: %v\n%s\ngateway:\n%s", err, out, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDockerCompose: compose.yaml gives the gateway only variables the
// configuration reads, and the ones the stack needs.
func TestDockerCompose(t *testing.T) {
	src, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var config []byte
	for _, f := range []string{"config.go", "payments.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		config = append(config, b...)
	}
	// The gateway service's environment block.
	var inGateway, inEnv bool
	got := map[string]string{}
	key := regexp.MustCompile(`^\s{6}([A-Z][A-Z0-9_]*):\s*(.*)$`)
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case regexp.MustCompile(`^  [a-z-]+:\s*$`).MatchString(line):
			inGateway, inEnv = line == "  gateway:", false
		case inGateway && line == "    environment:":
			inEnv = true
		case inEnv && regexp.MustCompile(`^    [a-z_]+:`).MatchString(line):
			inEnv = false
		case inEnv:
			if m := key.FindStringSubmatch(line); m != nil {
				got[m[1]] = m[2]
			}
		}
	}
	for name := range got {
		if !bytes.Contains(config, []byte(fmt.Sprintf("%q", name))) {
			t.Errorf("compose.yaml sets %s for the gateway, which the configuration never reads", name)
		}
	}
	for name, want := range map[string]string{
		"DATABASE_URL": "@postgres:5432/", "SMTP_URL": "mailpit:1025",
		"STRIPE_API_URL": "stripe-mock:12111", "STRIPE_SECRET_KEY": "sk_test_", "STRIPE_WEBHOOK_SECRET": "whsec_",
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("compose.yaml: gateway %s=%q; want it to name %q", name, got[name], want)
		}
	}
	for _, svc := range []string{"  postgres:", "  mailpit:", "  stripe-mock:"} {
		if !strings.Contains(string(src), "\n"+svc+"\n") {
			t.Errorf("compose.yaml has no service %s", strings.TrimSpace(svc))
		}
	}
}
