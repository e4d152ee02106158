package corpus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
)

// jsonArticle is one line of a .jsonl file, as in ../shared/eval/*/articles.jsonl.
type jsonArticle struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	URL        string   `json:"url"`
	Paragraphs []string `json:"paragraphs"`
}

// Lines are read into batches that workers decode in parallel; results are
// added in line order, so IDs do not depend on scheduling.
const (
	batchLines = 1024
	batchBytes = 256 << 10
)

// jsonBatch is a run of consecutive lines of a .jsonl file.
type jsonBatch struct {
	data    []byte
	lines   []jsonLine
	results []jsonResult
	done    chan struct{} // closed when results are ready
}

type jsonLine struct {
	n          int    // 1-based line number
	start, end int    // the line is data[start:end]
	reason     string // set when the line could not be read
}

type jsonResult struct {
	source  string
	article Article
	reason  string // why the line was skipped; "" and no ID for a blank line
}

// jsonl loads a file of one article per line. A bad line is skipped with
// its file:line and the rest loads; it returns only a context error.
func (l *loader) jsonl(name string) error {
	f, err := l.fsys.Open(name)
	if err != nil {
		l.skip(name, err.Error())
		return nil
	}
	defer f.Close()

	ctx, cancel := context.WithCancel(l.ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	work := make(chan *jsonBatch)
	workers := runtime.GOMAXPROCS(0)
	order := make(chan *jsonBatch, 2*workers)
	wg.Go(func() {
		defer close(order)
		defer close(work)
		l.readBatches(ctx, f, work, order)
	})
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.results = make([]jsonResult, len(b.lines))
				for i, line := range b.lines {
					b.results[i] = parseJSONLine(name, line, b.data)
				}
				close(b.done)
			}
		})
	}
	for b := range order {
		<-b.done
		if err := l.ctx.Err(); err != nil {
			return err
		}
		for i, r := range b.results {
			if l.full {
				if r.reason == "" && r.article.ID == "" {
					continue // a blank line: nothing left out yet
				}
				l.leaveOut(fmt.Sprintf("%s:%d", name, b.lines[i].n)+" on", "not read: the corpus had reached its limit")
				return nil
			}
			switch {
			case r.reason != "":
				l.skip(r.source, r.reason)
			case r.article.ID != "":
				l.add(r.article)
			}
		}
	}
	return l.ctx.Err()
}

// readBatches splits the file into batches, each sent to a worker and then
// queued in order. A read error ends the file with a line carrying it.
func (l *loader) readBatches(ctx context.Context, f io.Reader, work, order chan<- *jsonBatch) {
	r := bufio.NewReaderSize(f, 1<<20)
	newBatch := func() *jsonBatch {
		return &jsonBatch{data: make([]byte, 0, batchBytes+batchBytes/4), done: make(chan struct{})}
	}
	b := newBatch()
	send := func() bool {
		if len(b.lines) == 0 {
			return true
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return false
		}
		select {
		case order <- b:
		case <-ctx.Done():
			return false
		}
		b = newBatch()
		return true
	}
	for n := 1; ; n++ {
		jl := jsonLine{n: n, start: len(b.data)}
		data, tooLong, err := readLine(r, b.data, l.max)
		b.data = data
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			jl.reason = err.Error()
		case tooLong:
			jl.reason = fmt.Sprintf("line over the %d-byte limit", l.max)
		}
		jl.end = len(b.data)
		b.lines = append(b.lines, jl)
		if err != nil {
			send()
			return
		}
		if len(b.lines) >= batchLines || len(b.data) >= batchBytes {
			if !send() {
				return
			}
		}
	}
}

// parseJSONLine decodes one line into an article ready to add.
func parseJSONLine(name string, jl jsonLine, data []byte) jsonResult {
	res := jsonResult{source: fmt.Sprintf("%s:%d", name, jl.n), reason: jl.reason}
	line := bytes.TrimSpace(data[jl.start:jl.end])
	if res.reason != "" || len(line) == 0 {
		return res
	}
	if err := checkText(line); err != nil {
		res.reason = err.Error()
		return res
	}
	var ja jsonArticle
	if err := json.Unmarshal(line, &ja); err != nil {
		res.reason = err.Error()
		return res
	}
	key := strings.TrimSpace(ja.ID)
	if key == "" {
		key = strings.TrimSpace(ja.Title)
	}
	if key == "" {
		res.reason = `no "id" or "title"`
		return res
	}
	res.article = Article{
		Title:  strings.TrimSpace(ja.Title),
		URL:    strings.TrimSpace(ja.URL),
		Source: res.source,
	}
	if res.article.Title == "" {
		res.article.Title = key
	}
	res.reason = prepare(&res.article, key, ja.Paragraphs)
	return res
}

// readLine appends one line, without its line end, to buf. A line longer
// than max bytes is consumed but not appended, and tooLong is set. err is
// io.EOF after the last line.
func readLine(r *bufio.Reader, buf []byte, max int64) (out []byte, tooLong bool, err error) {
	start := len(buf)
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong && int64(len(buf)-start+len(chunk)) <= max+1 {
			buf = append(buf, chunk...)
		} else {
			tooLong = true
			buf = buf[:start]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		if int64(len(buf)-start) > max {
			tooLong, buf = true, buf[:start]
		}
		return buf, tooLong, err
	}
}
