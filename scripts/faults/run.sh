#!/usr/bin/env bash
# The fault run of issue 12: hostile input and crashes. Each case sets up
# its own ARTICLES_DIR and DATA_DIR under a scratch folder, runs the
# verbatim binary built from this checkout, and prints what it observed.
#
#   scripts/faults/run.sh            # every case
#   scripts/faults/run.sh pipe cjk   # some cases
#
# Cases: pipe env size folder links crash signal fetch cjk. Offline except
# for a loopback fake embeddings server (scripts/faults/fakeembed).
set -u
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d /tmp/verbatim-faults.XXXXXX)
BIN=$WORK/verbatim
FAKE=$WORK/fakeembed
go build -o "$BIN" ./cmd/verbatim
go build -o "$FAKE" ./scripts/faults/fakeembed
PORT=${FAULTS_PORT:-18089}
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT

# Offline, clean settings; a .env in the working folder is not read (cd $WORK).
clean() {
	unset OPENAI_API_KEY LLM_BASE_URL EMBEDDER EMBEDDING_MODEL EMBEDDING_BASE_URL DISCORD_TOKEN \
		MAX_PARAGRAPHS MAX_CORPUS_BYTES MAX_ARTICLE_PARAGRAPHS FOLLOW_EXTERNAL_LINKS LOG_LEVEL
	export LOG_LEVEL=error
}
fresh() { # fresh NAME: new ARTICLES_DIR and DATA_DIR
	export ARTICLES_DIR=$WORK/$1/articles DATA_DIR=$WORK/$1/data
	mkdir -p "$ARTICLES_DIR" "$DATA_DIR"
}
article() { printf 'A title\n\nA paragraph long enough to be kept as one passage.\n' >"$ARTICLES_DIR/$1"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
header() { printf '\n=== %s\n' "$1"; }

case_pipe() {
	header "pipe: a named pipe in ARTICLES_DIR"
	clean; fresh pipe; article a.txt; mkfifo "$ARTICLES_DIR/pipe.txt"
	cd "$WORK"
	for cmd in index articles "ask What is a paragraph?"; do
		t0=$(now); timeout 20 "$BIN" $cmd >"$WORK/out" 2>&1; rc=$?
		echo "verbatim $cmd: exit $rc in $(secs "$t0" "$(now)") s; $(grep -m1 'pipe.txt' "$WORK/out" || echo 'no mention of pipe.txt')"
	done
}

case_env() {
	header "env: a malformed .env holding secrets"
	clean; mkdir -p "$WORK/env"; cd "$WORK/env"
	for body in 'DISCORD_TOKEN T0KEN-SECRET\nOPENAI_API_KEY=KEY-SECRET\n' 'A="unterminated SECRET\nOPENAI_API_KEY=KEY-SECRET\n'; do
		printf "$body" >.env
		out=$("$BIN" articles 2>&1); rc=$?
		leak=no; case $out in *SECRET*) leak=YES ;; esac
		echo "exit $rc, secret in output: $leak; message: $out"
	done
	rm -f .env
}

case_size() {
	header "size: one 10 MiB .txt of short lines"
	clean; fresh size
	awk 'BEGIN { print "Big"; for (i = 1; n < 10485760; i++) { l = "Line " i " of the big file."; print l; n += length(l) + 1 } }' \
		| head -c 10485760 >"$ARTICLES_DIR/big.txt"
	cd "$WORK"
	/usr/bin/time -f 'peak RSS %M KiB, %e s' "$BIN" index 2>"$WORK/time" | sed 's/^/  /'
	echo "  $(tail -1 "$WORK/time")"
	"$BIN" search "line 12345 of the big file" -k 1 | tail -1 | sed 's/^/  search: /'
}

case_folder() {
	header "folder: 30 files of 10,000 paragraphs (300,000 in all)"
	clean; fresh folder
	for f in $(seq -w 1 30); do
		awk -v f="$f" 'BEGIN { print "File " f; for (i = 1; i <= 10000; i++) print "Paragraph " i " of file " f " says something."; }' >"$ARTICLES_DIR/f$f.txt"
	done
	cd "$WORK"
	/usr/bin/time -f 'peak RSS %M KiB, %e s' "$BIN" index 2>"$WORK/time" >"$WORK/out"
	head -3 "$WORK/out" | sed 's/^/  /'; echo "  ... $(grep -c '^left out' "$WORK/out") 'left out' lines"
	echo "  $(tail -1 "$WORK/time")"
	/usr/bin/time -f 'peak RSS %M KiB' "$BIN" search "paragraph 777 of file 07" -k 1 2>"$WORK/time" | tail -1 | sed 's/^/  search: /'
	echo "  search process: $(tail -1 "$WORK/time")"
}

case_links() {
	header "links: symbolic links leading out of ARTICLES_DIR"
	clean; fresh links; article a.txt
	mkdir -p "$WORK/links/outside"
	printf 'Outside\n\nAn article kept outside the articles folder, linked into it.\n' >"$WORK/links/outside/outside.txt"
	ln -s "$WORK/links/outside/outside.txt" "$ARTICLES_DIR/outside.txt"
	ln -s /etc/hostname "$ARTICLES_DIR/hostname.txt"
	ln -s /proc/self/environ "$ARTICLES_DIR/environ.txt"
	ln -s /dev/urandom "$ARTICLES_DIR/urandom.txt"
	cd "$WORK"
	for follow in false true; do
		echo "FOLLOW_EXTERNAL_LINKS=$follow:"
		FOLLOW_EXTERNAL_LINKS=$follow "$BIN" index | sed 's/^/  /'
	done
}

# serve_fake DELAY: start the fake embeddings server; the API settings point at it.
serve_fake() {
	"$FAKE" -addr "127.0.0.1:$PORT" -delay "$1" &
	FAKE_PID=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/count" >/dev/null && break; sleep 0.1; done
	export EMBEDDING_BASE_URL=http://127.0.0.1:$PORT/v1 EMBEDDING_MODEL=fake-embedder
}
count() { curl -sf "http://127.0.0.1:$PORT/count"; }

case_crash() {
	header "crash: kill -9 during a first build with API embeddings, and a temp file left by a killed write"
	clean; fresh crash
	awk 'BEGIN { print "Many"; for (i = 1; i <= 20000; i++) print "Paragraph " i " tells of item" i " and thing" i * 7 "."; }' >"$ARTICLES_DIR/many.txt"
	serve_fake 150ms
	cd "$WORK"
	"$BIN" index >"$WORK/out" 2>&1 &
	pid=$!
	sleep 4; kill -9 $pid; wait $pid 2>/dev/null
	sleep 1 # requests sent before the kill are still in the server's delay
	first=$(count)
	echo "  killed after 4 s: $first texts embedded by the server; DATA_DIR/embeddings: $(ls -A "$DATA_DIR/embeddings" | tr '\n' ' ')"
	"$BIN" index | sed 's/^/  rerun: /'
	echo "  the rerun sent $(($(count) - first)) texts (of 20000)"
	kill $FAKE_PID; wait $FAKE_PID 2>/dev/null

	# A kill while the cache file is written: wait for its temp file, kill -9.
	clean; fresh crashwrite
	for f in $(seq -w 1 20); do
		awk -v f="$f" 'BEGIN { print "File " f; for (i = 1; i <= 10000; i++) print "Paragraph " i " of file " f " says something."; }' >"$ARTICLES_DIR/f$f.txt"
	done
	"$BIN" index >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 6000); do ls "$DATA_DIR"/embeddings/.*.tmp >/dev/null 2>&1 && break; sleep 0.01; done
	kill -9 $pid; wait $pid 2>/dev/null
	tmp=$(ls -A "$DATA_DIR"/embeddings | grep '\.tmp$')
	echo "  killed during the cache write: left $tmp ($(stat -c %s "$DATA_DIR/embeddings/$tmp" 2>/dev/null) bytes)"
	"$BIN" index | sed 's/^/  rerun at once: /'
	echo "  after it: $(ls -A "$DATA_DIR"/embeddings | tr '\n' ' ')"
	for t in "$DATA_DIR"/embeddings/.*.tmp; do [ -e "$t" ] && touch -d '2 minutes ago' "$t"; done
	"$BIN" index | sed 's/^/  rerun later: /'
	echo "  after a start once it is 2 minutes old: $(ls -A "$DATA_DIR"/embeddings | tr '\n' ' ')"
}

case_signal() {
	header "signal: SIGTERM and SIGINT during a first build with a slow embedding server"
	clean; fresh signal
	awk 'BEGIN { print "Many"; for (i = 1; i <= 5000; i++) print "Paragraph " i " tells of item" i "."; }' >"$ARTICLES_DIR/many.txt"
	serve_fake 30s
	cd "$WORK"
	for sig in TERM INT; do
		"$BIN" index >"$WORK/out" 2>&1 &
		pid=$!
		sleep 2; t0=$(now); kill -$sig $pid; wait $pid; rc=$?
		echo "  SIG$sig: exit $rc $(secs "$t0" "$(now)") s after the signal; $(tail -1 "$WORK/out")"
	done
	kill $FAKE_PID; wait $FAKE_PID 2>/dev/null
}

case_fetch() {
	header "fetch: verbatim add of a loopback URL"
	clean; fresh fetch; article a.txt
	serve_fake 0s
	unset EMBEDDING_BASE_URL EMBEDDING_MODEL
	cd "$WORK"
	"$BIN" add "http://127.0.0.1:$PORT/count" 2>&1 | sed 's/^/  /'
	echo "  exit ${PIPESTATUS[0]}; ARTICLES_DIR: $(ls -A "$ARTICLES_DIR" | tr '\n' ' ')"
	kill $FAKE_PID; wait $FAKE_PID 2>/dev/null
}

case_cjk() {
	header "cjk: a Chinese article and a Chinese question"
	clean; fresh cjk
	printf '北京\n\n北京是中华人民共和国的首都，也是全国的政治和文化中心。它有三千多年的建城历史！\n\n故宫位于北京的中心，是明清两代的皇家宫殿\n\n你好\n' >"$ARTICLES_DIR/beijing.txt"
	printf 'Cats\n\nCats purr when they are content and sleep most of the day.\n' >"$ARTICLES_DIR/cats.txt"
	cd "$WORK"
	"$BIN" index | sed 's/^/  /'
	"$BIN" articles | sed 's/^/  /'
	"$BIN" search "中国的首都是哪里？" -k 1 | head -3 | sed 's/^/  /'
	"$BIN" quote "它有三千多年的建城历史" -k 1 | sed 's/^/  /'
	"$BIN" ask "故宫在哪里？" | sed 's/^/  /'
}

cases=${*:-pipe env size folder links crash signal fetch cjk}
for c in $cases; do "case_$c"; done
