#!/usr/bin/env python3
"""Serves recorded model replies again: an OpenAI-compatible chat endpoint
that answers each question with the reply the real model gave it in a run
of run.sh (its NAME.replies.jsonl), so that a change in how Verbatim treats
replies can be measured on the same model output without the model.

  replay_server.py --port 18790 REPLIES.jsonl [REPLIES.jsonl...]

A question with no recorded reply gets HTTP 404. Standard library only.
"""

import argparse
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUESTION = re.compile(r"<question>\s*(.*?)\s*</question>", re.S)


def load(paths):
    replies = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    if r.get("status") == 200 and r.get("reply") is not None:
                        replies[" ".join(r["question"].split())] = r
    return replies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18790)
    ap.add_argument("--model", default="replay")
    ap.add_argument("replies", nargs="+")
    args = ap.parse_args()
    replies = load(args.replies)
    print(f"replaying {len(replies)} replies on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.rstrip("/").endswith("/models"):
                self.send(200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})
            else:
                self.send(404, {"error": {"message": "not found"}})

        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            user = req["messages"][-1]["content"]
            m = QUESTION.findall(user)
            q = " ".join(m[-1].split()) if m else ""
            r = replies.get(q)
            if r is None:
                self.send(404, {"error": {"message": f"no recorded reply for {q!r}"}})
                return
            self.send(200, {"id": "replay", "object": "chat.completion", "model": args.model,
                            "choices": [{"index": 0, "finish_reason": r.get("finish_reason") or "stop",
                                         "message": {"role": "assistant", "content": r["reply"]}}],
                            "usage": r.get("usage") or {}})

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
