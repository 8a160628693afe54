// SPDX-License-Identifier: GPL-2.0-only

// Command csbench holds the load generators and probes of consentry's benchmark (scripts/bench):
//
//	csbench load   -addr HOST:PORT [-tls] [-c 32] [-d 5s] [-post FILE [-type T] [-path P]]
//	                                                         HTTP/1.1 keep-alive GET load, or
//	                                                         POSTs of FILE (a bulk upload)
//	csbench sink   -tcp ADDR -udp ADDR                       discard server (peer namespace)
//	csbench lat    -addr HOST:PORT -values F -n N -rate R -out F
//	                                                         paced sends, one registered value each
//	csbench blast  -addr HOST:PORT -values F -rate R -d 4s [-threads 1] [-per-msg 1] [-batch 8]
//	                                                         UDP messages at a fixed rate
//	csbench reader -in FIFO -mode lat|count [-out F]         consumes the monitor's findings
//
// It is built stripped (-s -w) on purpose: the monitor cannot probe a Go binary without
// symbols, so the HTTPS load generator (which stands for a remote client) adds no uprobe cost
// to the measurement. Times are CLOCK_REALTIME (Go's wall clock, vDSO) in nanoseconds.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: csbench load|sink|lat|blast|reader [flags]")
	}
	log.SetFlags(0)
	log.SetPrefix("csbench " + os.Args[1] + ": ")
	args := os.Args[2:]
	switch os.Args[1] {
	case "load":
		cmdLoad(args)
	case "sink":
		cmdSink(args)
	case "lat":
		cmdLat(args)
	case "blast":
		cmdBlast(args)
	case "reader":
		cmdReader(args)
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func printJSON(v interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

// ---- load: a small wrk-like client (HTTP/1.1 keep-alive, one request in flight per connection)

func cmdLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	addr := fs.String("addr", "", "server HOST:PORT")
	useTLS := fs.Bool("tls", false, "HTTPS")
	conns := fs.Int("c", 32, "connections")
	dur := fs.Duration("d", 5*time.Second, "duration")
	post := fs.String("post", "", "POST this file's bytes as the body of every request")
	ctype := fs.String("type", "text/csv", "Content-Type of -post")
	path := fs.String("path", "/v1/export/users", "request path of -post")
	fs.Parse(args)
	req := []byte("GET /api/items HTTP/1.1\r\nHost: consentry-bench\r\nUser-Agent: csbench\r\n" +
		"Accept: application/json\r\n\r\n")
	body := 0
	if *post != "" {
		b, err := os.ReadFile(*post)
		if err != nil {
			log.Fatal(err)
		}
		// headers and body in one buffer: one Write, which the runtime turns into as many
		// write() calls as the socket buffer takes, as any Go service's upload would. The
		// body ends in a row of fixed width numbered per request (stampRow), so no two
		// requests are the same bytes, as no two real exports are.
		b = append(b, []byte(stampRow(0))...)
		req = append([]byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: consentry-bench\r\n"+
			"User-Agent: csbench\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			*path, *ctype, len(b))), b...)
		body = len(b)
	}
	var seq uint64
	var (
		mu      sync.Mutex
		lats    []time.Duration
		errs    int64
		started = make(chan struct{})
		wg      sync.WaitGroup
	)
	var stop int32
	var ready sync.WaitGroup
	ready.Add(*conns)
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var err error
			c, err = net.Dial("tcp", *addr)
			if err == nil && *useTLS {
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "consentry-bench"})
				err = tc.Handshake()
				c = tc
			}
			ready.Done()
			if err != nil {
				atomic.AddInt64(&errs, 1)
				return
			}
			defer c.Close()
			<-started
			br := bufio.NewReaderSize(c, 64<<10)
			local := make([]time.Duration, 0, 65536)
			mine := append([]byte(nil), req...)
			for atomic.LoadInt32(&stop) == 0 {
				if body > 0 {
					row := stampRow(atomic.AddUint64(&seq, 1))
					copy(mine[len(mine)-len(row):], row)
				}
				t0 := time.Now()
				if _, err := c.Write(mine); err != nil {
					atomic.AddInt64(&errs, 1)
					break
				}
				if err := readResponse(br); err != nil {
					atomic.AddInt64(&errs, 1)
					break
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	ready.Wait()
	t0 := time.Now()
	deadline := t0.Add(*dur)
	close(started)
	time.Sleep(time.Until(deadline))
	atomic.StoreInt32(&stop, 1)
	secs := time.Since(t0).Seconds()
	wg.Wait()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		i := int(p * float64(len(lats)))
		if i >= len(lats) {
			i = len(lats) - 1
		}
		return float64(lats[i].Nanoseconds()) / 1e3
	}
	printJSON(map[string]interface{}{"requests": len(lats), "seconds": secs,
		"rps": float64(len(lats)) / secs, "p50_us": pct(0.50), "p90_us": pct(0.90),
		"p99_us": pct(0.99), "max_us": pct(1), "errors": errs,
		"body_bytes": body, "body_bps": float64(len(lats)) * float64(body) * 8 / secs})
}

// stampRow is the last row of a POSTed CSV body: the same width for every request number.
func stampRow(n uint64) string {
	return fmt.Sprintf("999999,request %012d,,,,\r\n", n%1000000000000)
}

// readResponse reads one HTTP/1.1 response with a Content-Length body.
func readResponse(br *bufio.Reader) error {
	clen := -1
	first := true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if first {
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
				return fmt.Errorf("bad status: %q", line)
			}
			first = false
			continue
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 15 && bytes.EqualFold(line[:15], []byte("content-length:")) {
			clen, err = strconv.Atoi(strings.TrimSpace(string(line[15:])))
			if err != nil {
				return err
			}
		}
	}
	if clen < 0 {
		return fmt.Errorf("no content-length")
	}
	_, err := br.Discard(clen)
	return err
}

// ---- sink: TCP connections are read and discarded; the UDP socket is bound and never read
// (datagrams past its buffer are dropped by the kernel, which costs the sender nothing extra)

func cmdSink(args []string) {
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	tcpAddr := fs.String("tcp", "", "TCP listen address")
	udpAddr := fs.String("udp", "", "UDP bind address")
	fs.Parse(args)
	if *udpAddr != "" {
		pc, err := net.ListenPacket("udp", *udpAddr)
		if err != nil {
			log.Fatal(err)
		}
		defer pc.Close()
	}
	if *tcpAddr == "" {
		fmt.Println("ready")
		select {}
	}
	ln, err := net.Listen("tcp", *tcpAddr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
		}()
	}
}

// values file: "subject<TAB>value" per line
type value struct{ subject, v string }

func readValues(path string) []value {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []value
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s, v, ok := strings.Cut(sc.Text(), "\t"); ok && s != "" && v != "" {
			out = append(out, value{s, v})
		}
	}
	if len(out) == 0 {
		log.Fatalf("%s: no values", path)
	}
	return out
}

// message: a small JSON event carrying exactly one registered value (one finding).
func message(seq int, v value) []byte {
	key := "phone"
	if strings.Contains(v.v, "@") {
		key = "email"
	}
	return []byte(fmt.Sprintf(`{"event":"signup","seq":%d,"%s":"%s","plan":"basic"}`+"\n",
		seq, key, v.v))
}

// ---- lat: N messages at a fixed rate over one TCP connection; after each write returns,
// record "seq subject t_ns" (the send side of the detection latency)

func cmdLat(args []string) {
	fs := flag.NewFlagSet("lat", flag.ExitOnError)
	addr := fs.String("addr", "", "sink HOST:PORT (tcp)")
	valuesPath := fs.String("values", "", "values file")
	n := fs.Int("n", 10000, "messages")
	rate := fs.Float64("rate", 2000, "messages per second")
	outPath := fs.String("out", "", "output file")
	fs.Parse(args)
	vals := readValues(*valuesPath)
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	msgs := make([][]byte, *n)
	for i := range msgs {
		msgs[i] = message(i, vals[i%len(vals)])
	}
	stamps := make([]int64, *n)
	interval := time.Duration(float64(time.Second) / *rate)
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if _, err := c.Write(msgs[i]); err != nil {
			log.Fatal(err)
		}
		stamps[i] = time.Now().UnixNano()
	}
	f, err := os.Create(*outPath)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < *n; i++ {
		fmt.Fprintf(w, "%d %s %d\n", i, vals[i%len(vals)].subject, stamps[i])
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	printJSON(map[string]interface{}{"sent": *n, "seconds": time.Since(t0).Seconds()})
}

// ---- blast: UDP messages at a fixed total rate from one or more sockets, each message one
// registered value of a distinct subject (per-msg > 1 puts several subjects in one message).
// -batch N > 1 hands N messages to one sendmmsg() call: the monitor scans each message of a
// sendmmsg as its own send (one ring-buffer event, one finding), so the event rate is not capped
// by the sender's syscall rate.

type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

func sendmmsgNr() uintptr {
	switch runtime.GOARCH {
	case "amd64":
		return 307
	case "arm64":
		return 269
	}
	return 0
}

// udpSender sends msgs[k], msgs[k+1], ... (cyclically) on one connected UDP socket.
type udpSender struct {
	conn  net.Conn
	fd    uintptr
	batch int
	hdrs  []mmsghdr
	iovs  []syscall.Iovec
}

func newUDPSender(addr string, batch int) *udpSender {
	c, err := net.Dial("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	u := &udpSender{conn: c, batch: batch}
	if batch > 1 {
		if sendmmsgNr() == 0 {
			log.Fatalf("-batch needs sendmmsg (amd64 or arm64), not %s", runtime.GOARCH)
		}
		rc, err := c.(*net.UDPConn).SyscallConn()
		if err != nil {
			log.Fatal(err)
		}
		rc.Control(func(fd uintptr) { u.fd = fd })
		u.hdrs = make([]mmsghdr, batch)
		u.iovs = make([]syscall.Iovec, batch)
	}
	return u
}

// send sends n messages starting at index k; returns how many were sent and errors seen.
func (u *udpSender) send(msgs [][]byte, k, n int) (sent, errs int64) {
	if u.batch <= 1 {
		for i := 0; i < n; i++ {
			if _, err := u.conn.Write(msgs[(k+i)%len(msgs)]); err != nil {
				errs++
			} else {
				sent++
			}
		}
		return
	}
	for n > 0 {
		m := n
		if m > u.batch {
			m = u.batch
		}
		for i := 0; i < m; i++ {
			b := msgs[(k+i)%len(msgs)]
			u.iovs[i] = syscall.Iovec{Base: &b[0], Len: uint64(len(b))}
			u.hdrs[i] = mmsghdr{hdr: syscall.Msghdr{Iov: &u.iovs[i], Iovlen: 1}}
		}
		r, _, e := syscall.Syscall6(sendmmsgNr(), u.fd, uintptr(unsafe.Pointer(&u.hdrs[0])),
			uintptr(m), 0, 0, 0)
		if e != 0 {
			if e == syscall.EAGAIN || e == syscall.ENOBUFS || e == syscall.EINTR {
				continue // the socket buffer drains at once on veth: retry
			}
			errs += int64(m)
			r = uintptr(m)
		} else {
			sent += int64(r)
		}
		k += int(r)
		n -= int(r)
	}
	return
}

func cmdBlast(args []string) {
	fs := flag.NewFlagSet("blast", flag.ExitOnError)
	addr := fs.String("addr", "", "sink HOST:PORT (udp)")
	valuesPath := fs.String("values", "", "values file")
	rate := fs.Float64("rate", 50000, "messages per second (total)")
	dur := fs.Duration("d", 4*time.Second, "duration")
	threads := fs.Int("threads", 1, "sending goroutines, one socket each")
	perMsg := fs.Int("per-msg", 1, "registered values (subjects) per message")
	batch := fs.Int("batch", 1, "messages per sendmmsg() call (1: one write() per message)")
	fs.Parse(args)
	vals := readValues(*valuesPath)
	// pre-built messages: consecutive subjects, so a message never holds one subject twice
	nmsg := len(vals) / *perMsg
	if nmsg < 1 {
		log.Fatal("fewer values than -per-msg")
	}
	msgs := make([][]byte, nmsg)
	for i := range msgs {
		if *perMsg == 1 {
			msgs[i] = message(i, vals[i])
			continue
		}
		var b bytes.Buffer
		b.WriteString(`{"event":"batch","users":[`)
		for j := 0; j < *perMsg; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"contact":"%s"}`, vals[i**perMsg+j].v)
		}
		b.WriteString("]}\n")
		msgs[i] = b.Bytes()
	}
	const tick = time.Millisecond
	perTick := *rate / float64(*threads) / float64(time.Second/tick)
	var sent, errs int64
	var wg sync.WaitGroup
	senders := make([]*udpSender, *threads)
	for t := range senders {
		senders[t] = newUDPSender(*addr, *batch)
	}
	t0 := time.Now()
	end := t0.Add(*dur)
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func(t int, u *udpSender) {
			defer wg.Done()
			defer u.conn.Close()
			var n, ne int64
			k := t * (nmsg / *threads)
			credit := 0.0
			for tk := 0; ; tk++ {
				at := t0.Add(time.Duration(tk) * tick)
				if !at.Before(end) {
					break
				}
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				// a late tick sends its whole share: the offered rate stays the asked rate
				// while the sender keeps up, and the achieved rate shows when it does not
				credit += perTick
				if c := int(credit); c > 0 {
					s, e := u.send(msgs, k, c)
					n += s
					ne += e
					k += c
					credit -= float64(c)
				}
			}
			atomic.AddInt64(&sent, n)
			atomic.AddInt64(&errs, ne)
		}(t, senders[t])
	}
	wg.Wait()
	t1 := time.Now()
	secs := t1.Sub(t0).Seconds()
	printJSON(map[string]interface{}{"sent": sent, "findings_expected": sent * int64(*perMsg),
		"seconds": secs, "rate": float64(sent) / secs, "end_ns": t1.UnixNano(), "errors": errs})
}

// ---- reader: the monitor writes findings (jsonl) into a FIFO; every read() is stamped once
// (all lines of one read arrived together) and each line's subject is extracted.

func cmdReader(args []string) {
	fs := flag.NewFlagSet("reader", flag.ExitOnError)
	in := fs.String("in", "", "FIFO (or file) to read findings from")
	mode := fs.String("mode", "count", "lat: 'subject t_ns' per finding to -out; count: totals")
	outPath := fs.String("out", "", "output file (lat mode)")
	fs.Parse(args)
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	var w *bufio.Writer
	if *mode == "lat" {
		of, err := os.Create(*outPath)
		if err != nil {
			log.Fatal(err)
		}
		defer of.Close()
		w = bufio.NewWriterSize(of, 1<<20)
	}
	buf := make([]byte, 1<<20)
	var partial []byte
	var lines, first, last int64
	key := []byte(`"subject":"`)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			now := time.Now().UnixNano()
			if first == 0 {
				first = now
			}
			last = now
			data := buf[:n]
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					partial = append(partial, data...)
					break
				}
				line := data[:i]
				if len(partial) > 0 {
					line = append(partial, line...)
					partial = partial[:0]
				}
				data = data[i+1:]
				lines++
				if w != nil {
					if j := bytes.Index(line, key); j >= 0 {
						s := line[j+len(key):]
						if k := bytes.IndexByte(s, '"'); k >= 0 {
							fmt.Fprintf(w, "%s %d\n", s[:k], now)
						}
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
	}
	printJSON(map[string]interface{}{"lines": lines, "first_ns": first, "last_ns": last})
}
