// SPDX-License-Identifier: GPL-2.0-only
package main

// A minimal HTTPS client: POST BODY (a file) to URL, trusting only CAFILE; exit 0 on HTTP 200.
// WAIT, if given, is a duration to sleep first ("1s") or a fifo to read a line from first.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: cs-gotls URL CAFILE BODYFILE [WAIT]")
		os.Exit(2)
	}
	if len(os.Args) == 5 {
		if d, err := time.ParseDuration(os.Args[4]); err == nil {
			time.Sleep(d)
		} else {
			fmt.Println("waiting") // opening a fifo blocks until the writer comes
			f, err := os.Open(os.Args[4])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			bufio.NewReader(f).ReadString(10) // up to a newline
			f.Close()
		}
	}
	ca, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		fmt.Fprintln(os.Stderr, "no certificate in", os.Args[2])
		os.Exit(1)
	}
	body, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c := &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			DisableKeepAlives: true,
		},
	}
	resp, err := c.Post(os.Args[1], "application/json", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fmt.Fprintln(os.Stderr, "HTTP", resp.StatusCode)
		os.Exit(1)
	}
}
