// Command ferretdb-launcher starts an embedded FerretDB (SQLite backend) on a
// loopback port for the test suite, the demo and the benchmarks.
//
// A plain `go install` of FerretDB's own command panics at start on a missing
// version file, so we embed the library and call ferretdb.New(...).Run.
//
// It prints one line "ready <uri>" on stdout once the port accepts connections,
// and exits when stdin closes (its parent died) or on SIGINT/SIGTERM, so a
// crashed test run never leaves a server behind.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("dir", "", "directory for the SQLite databases (required)")
	addr := flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free one")
	watchStdin := flag.Bool("watch-stdin", true, "exit when stdin reaches EOF")
	flag.Parse()

	if *dir == "" {
		fatal("-dir is required")
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fatal(err.Error())
	}
	if err := os.MkdirAll(absDir, 0o755); err != nil {
		fatal(err.Error())
	}

	listen, err := resolvePort(*addr)
	if err != nil {
		fatal(err.Error())
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + absDir + "/",
	})
	if err != nil {
		fatal(err.Error())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// Announce readiness only once the port really accepts connections.
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			fatal(fmt.Sprintf("ferretdb stopped before it was ready: %v", err))
		default:
		}
		conn, err := net.DialTimeout("tcp", listen, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			fatal("ferretdb did not start listening within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("ready mongodb://%s/\n", listen)

	if err := <-done; err != nil && ctx.Err() == nil {
		fatal(err.Error())
	}
}

// resolvePort replaces port 0 with a free port, because FerretDB's listener
// does not report the port it picked.
func resolvePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "ferretdb-launcher:", msg)
	os.Exit(1)
}
