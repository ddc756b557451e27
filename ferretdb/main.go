// Command ferretdb-launcher starts an embedded FerretDB (SQLite backend) on a
// loopback port for the test suite, the demo and the benchmarks.
//
// A plain `go install` of FerretDB's own command panics at start on a missing
// version file, so we embed the library and call ferretdb.New(...).Run.
//
// It prints one line "ready <uri>" on stdout once the port accepts connections,
// and exits when stdin closes (its parent died) or on SIGINT/SIGTERM, so a
// crashed test run never leaves a server behind.
//
// With -tls-listen it also serves TLS on a second port (server certificate
// -tls-cert/-tls-key; with -tls-ca, clients must present a certificate signed
// by that CA: mutual TLS) and prints "ready-tls <uri>" just before "ready".
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
	tlsAddr := flag.String("tls-listen", "", "TLS address to listen on as well (off when empty); port 0 picks a free one")
	tlsCert := flag.String("tls-cert", "", "PEM server certificate for -tls-listen")
	tlsKey := flag.String("tls-key", "", "PEM private key of -tls-cert")
	tlsCA := flag.String("tls-ca", "", "PEM CA certificate; when set, clients must present a certificate it signed (mutual TLS)")
	watchStdin := flag.Bool("watch-stdin", true, "exit when stdin reaches EOF")
	flag.Parse()

	if *dir == "" {
		fatal("-dir is required")
	}
	if *tlsAddr == "" && (*tlsCert != "" || *tlsKey != "" || *tlsCA != "") {
		fatal("-tls-cert, -tls-key and -tls-ca need -tls-listen")
	}
	if *tlsAddr != "" && (*tlsCert == "" || *tlsKey == "") {
		fatal("-tls-listen needs -tls-cert and -tls-key")
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fatal(err.Error())
	}
	if err := os.MkdirAll(absDir, 0o755); err != nil {
		fatal(err.Error())
	}

	addrs := []string{*addr}
	if *tlsAddr != "" {
		addrs = append(addrs, *tlsAddr)
	}
	resolved, err := resolvePorts(addrs)
	if err != nil {
		fatal(err.Error())
	}
	listen := resolved[0]
	listener := ferretdb.ListenerConfig{TCP: listen}
	if *tlsAddr != "" {
		listener.TLS = resolved[1]
		listener.TLSCertFile = *tlsCert
		listener.TLSKeyFile = *tlsKey
		listener.TLSCAFile = *tlsCA
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
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

	// Announce readiness only once every port really accepts connections.
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range resolved {
		for {
			select {
			case err := <-done:
				fatal(fmt.Sprintf("ferretdb stopped before it was ready: %v", err))
			default:
			}
			conn, err := net.DialTimeout("tcp", a, 200*time.Millisecond)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				fatal(fmt.Sprintf("ferretdb did not start listening on %s within 60s", a))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if listener.TLS != "" {
		fmt.Printf("ready-tls mongodb://%s/?tls=true\n", listener.TLS)
	}
	fmt.Printf("ready mongodb://%s/\n", listen)

	if err := <-done; err != nil && ctx.Err() == nil {
		fatal(err.Error())
	}
}

// resolvePorts replaces port 0 with a free port in each address, because
// FerretDB's listener does not report the port it picked. All probe listeners
// stay open until every address is resolved, so two port-0 addresses never
// get the same port.
func resolvePorts(addrs []string) ([]string, error) {
	out := make([]string, len(addrs))
	for i, addr := range addrs {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if port != "0" {
			out[i] = addr
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, err
		}
		defer l.Close()
		out[i] = l.Addr().String()
	}
	return out, nil
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "ferretdb-launcher:", msg)
	os.Exit(1)
}
