// Log to tfeventsd from Go with nothing but the standard library.
//
// Usage: go run main.go SOCKET LOGDIR
//
// SOCKET is the daemon's Unix socket (e.g. $XDG_RUNTIME_DIR/tfevents.sock);
// LOGDIR is a directory relative to the daemon's root. Logs five steps of
// scalars (loss, train/acc), a text and a histogram, then flushes and
// checks every reply. The protocol is in docs/protocol.md: one JSON object
// per line, one reply line for each request that carries an "id".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"
)

type client struct {
	conn   net.Conn
	in     *bufio.Reader
	nextID int
}

type reply struct {
	ID    *int   `json:"id"`
	OK    bool   `json:"ok"`
	Step  *int64 `json:"step"`
	Error string `json:"error"`
}

// request sends msg with a fresh id and returns its reply.
func (c *client) request(msg map[string]any) (reply, error) {
	c.nextID++
	msg["id"] = c.nextID
	line, err := json.Marshal(msg)
	if err != nil {
		return reply{}, err
	}
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(append(line, '\n')); err != nil {
		return reply{}, err
	}
	for {
		text, err := c.in.ReadBytes('\n')
		if err != nil {
			return reply{}, err
		}
		var r reply
		if err := json.Unmarshal(text, &r); err != nil {
			return reply{}, err
		}
		if r.ID != nil && *r.ID == c.nextID {
			return r, nil
		}
	}
}

func run(path, logdir string) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer conn.Close()
	c := &client{conn: conn, in: bufio.NewReader(conn)}
	// No "step": each message takes the logdir's next step, so running
	// the example again continues after the steps already there.
	for i := 0; i < 5; i++ {
		values := map[string]any{
			"loss":  1.0 / float64(i+1),
			"train": map[string]any{"acc": float64(i) / 4},
		}
		if i == 0 {
			values["notes"] = "hello from **Go**"
		}
		if i == 4 {
			values["weights"] = map[string]any{
				"$histogram": map[string]any{"values": []float64{0.1, 0.2, 0.2, 0.7, 1.5}},
			}
		}
		r, err := c.request(map[string]any{"logdir": logdir, "values": values})
		if err != nil {
			return err
		}
		if !r.OK {
			return fmt.Errorf("message %d refused: %s", i, r.Error)
		}
	}
	// The reply to a flush comes once everything before it is in the files.
	r, err := c.request(map[string]any{"op": "flush", "logdir": logdir, "sync": true})
	if err != nil {
		return err
	}
	if !r.OK {
		return fmt.Errorf("flush failed: %s", r.Error)
	}
	return nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run main.go SOCKET LOGDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
