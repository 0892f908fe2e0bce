package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time by `make docker-binary` and the Dockerfile:
//
//	-ldflags "-X main.version=v0.1.0 -X main.commit=abc1234 -X main.date=2026-12-05T10:00:00Z"
//
// Empty, they fall back to what the Go toolchain stamped into the binary
// (runtime/debug.ReadBuildInfo: the module version and, when built inside
// a git checkout, vcs.revision, vcs.time and vcs.modified).
var (
	version string
	commit  string
	date    string
)

// buildInfo is what `creditgate version` prints.
type buildInfo struct {
	Version   string // module version: v0.1.0, a pseudo-version, or (devel)
	Commit    string // git revision, "+dirty" when the tree was modified
	Date      string // build date (or, from the toolchain, the commit's date)
	GoVersion string
	Platform  string
}

// readBuildInfo combines the link-time variables with the toolchain's
// stamps; read is debug.ReadBuildInfo (a parameter for tests).
func readBuildInfo(read func() (*debug.BuildInfo, bool)) buildInfo {
	b := buildInfo{
		Version: version, Commit: commit, Date: date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := read(); ok {
		if b.Version == "" {
			b.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		var rev, at string
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if b.Commit == "" && rev != "" {
			b.Commit = rev
			if dirty {
				b.Commit += "+dirty"
			}
		}
		if b.Date == "" {
			b.Date = at
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func printVersion(w io.Writer) {
	b := readBuildInfo(debug.ReadBuildInfo)
	fmt.Fprintf(w, "creditgate %s\n  commit:  %s\n  built:   %s\n  go:      %s (%s)\n",
		b.Version, b.Commit, b.Date, b.GoVersion, b.Platform)
}
