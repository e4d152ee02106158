// Command fakeembed serves the fake OpenAI embeddings API of
// retrieval/openaifake on loopback, slowed down per request, and counts
// the texts it embeds: the fault run uses it to interrupt a first index
// build part way and to see what the next build asks for again.
//
//	fakeembed -addr 127.0.0.1:18089 -delay 100ms
//
// GET /count answers the number of texts embedded so far.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/verbatim-bot/verbatim/retrieval/openaifake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18089", "loopback address to listen on")
	delay := flag.Duration("delay", 100*time.Millisecond, "added to every embeddings request")
	flag.Parse()
	emb := openaifake.NewEmbeddingsHandler()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(*delay)
		emb.ServeHTTP(w, r)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, req := range emb.Requests() {
			n += len(req.Input)
		}
		fmt.Fprintln(w, n)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
