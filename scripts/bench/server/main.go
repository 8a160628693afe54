// SPDX-License-Identifier: GPL-2.0-only

// Command csbench-server is the HTTP and HTTPS server of consentry's benchmark (scripts/bench).
// It runs on the monitored host and answers every GET with the next of a fixed set of JSON
// bodies (round robin), generated at start: sizes log-uniform between -min and -max bytes,
// product/order records, and one body in -pii-every carrying a registered phone or e-mail from
// -values (so the monitor also writes findings, as it would for a real API).
//
// A POST is read to its end and answered 200 "ok\n": the bulk phase runs a second instance in
// the peer namespace as the receiver of uploads from this host.
//
// It is built WITH its symbol table (no -s -w): the monitor finds crypto/tls.(*Conn).Write by
// symbol and probes the plaintext of every HTTPS response, exactly as it would for a Go service.
// HTTP/2 is off so both modes speak HTTP/1.1 keep-alive.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/big"
	mrand "math/rand"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var words = []string{"garden", "kitchen", "outdoor", "office", "travel", "sport", "premium",
	"classic", "compact", "wireless", "steel", "cotton", "organic", "refill", "bundle", "gift"}

// body builds one JSON document of about size bytes; pii, when non-empty, is a registered value
// placed in a customer record.
func body(rng *mrand.Rand, size int, pii string) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"ok","page":1,"items":[`)
	for i := 0; b.Len() < size-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sku":"SKU-%05d","name":"%s %s %d","price":%d.%02d,"qty":%d,`+
			`"tags":["%s","%s"],"updated":"2026-11-%02dT%02d:%02d:00Z","stock":%t}`,
			100000+rng.Intn(900000), rng.Intn(100000), strings.Title(words[rng.Intn(len(words))]),
			words[rng.Intn(len(words))], rng.Intn(10), rng.Intn(500), rng.Intn(100), 1+rng.Intn(9),
			words[rng.Intn(len(words))], words[rng.Intn(len(words))], 1+rng.Intn(28), rng.Intn(24),
			rng.Intn(60), rng.Intn(2) == 0)
	}
	b.WriteString(`]`)
	if pii != "" {
		key := "phone"
		if strings.Contains(pii, "@") {
			key = "email"
		}
		fmt.Fprintf(&b, `,"customer":{"id":%d,"%s":"%s","tier":"gold"}`, rng.Intn(1000000), key, pii)
	}
	// pad to the exact size with a benign note so the size distribution is what was asked
	if pad := size - b.Len() - 12; pad > 0 {
		b.WriteString(`,"note":"`)
		for i := 0; i < pad; i++ {
			b.WriteByte("abcdefghij klmnop"[i%17])
		}
		b.WriteString(`"`)
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func readValues(path string) []string {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		log.Fatalf("values: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, v, ok := strings.Cut(sc.Text(), "\t"); ok && v != "" {
			out = append(out, v)
		}
	}
	return out
}

func selfSigned() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "consentry-bench"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"consentry-bench"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func main() {
	httpAddr := flag.String("http", "", "HTTP listen address")
	httpsAddr := flag.String("https", "", "HTTPS listen address")
	values := flag.String("values", "", "file of 'subject<TAB>value' lines to embed")
	n := flag.Int("n", 64, "number of bodies")
	minSize := flag.Int("min", 1024, "smallest body (bytes)")
	maxSize := flag.Int("max", 16384, "largest body (bytes)")
	piiEvery := flag.Int("pii-every", 16, "one body in N carries a registered value (0: none)")
	flag.Parse()
	if *httpAddr == "" && *httpsAddr == "" {
		log.Fatal("need -http and/or -https")
	}
	vals := readValues(*values)
	rng := mrand.New(mrand.NewSource(5))
	bodies := make([][]byte, *n)
	clens := make([]string, *n)
	total, pii := 0, 0
	for i := range bodies {
		size := int(math.Exp(math.Log(float64(*minSize)) +
			rng.Float64()*(math.Log(float64(*maxSize))-math.Log(float64(*minSize)))))
		v := ""
		if *piiEvery > 0 && i%*piiEvery == *piiEvery-1 && len(vals) > 0 {
			v = vals[rng.Intn(len(vals))]
			pii++
		}
		bodies[i] = body(rng, size, v)
		clens[i] = strconv.Itoa(len(bodies[i]))
		total += len(bodies[i])
	}
	var next uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			hd := w.Header()
			hd["Content-Type"] = []string{"text/plain"}
			hd["Content-Length"] = []string{"3"}
			w.Write([]byte("ok\n"))
			return
		}
		i := (atomic.AddUint64(&next, 1) - 1) % uint64(len(bodies))
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{clens[i]}
		w.Write(bodies[i])
	})
	errc := make(chan error, 2)
	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go func() { errc <- srv.Serve(ln) }()
	}
	if *httpsAddr != "" {
		ln, err := net.Listen("tcp", *httpsAddr)
		if err != nil {
			log.Fatal(err)
		}
		srv := &http.Server{
			Handler:      h,
			TLSConfig:    &tls.Config{Certificates: []tls.Certificate{selfSigned()}},
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		}
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	}
	fmt.Printf("ready: %d bodies, mean %d bytes, %d with a registered value\n",
		len(bodies), total/len(bodies), pii)
	log.Fatal(<-errc)
}
