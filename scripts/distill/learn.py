#!/usr/bin/env python3
"""Fit the rows of a static table to the transformer's sentence vectors.

distill.py gives each token the transformer's output for the token alone,
so a text's vector (the normalised sum of its rows) only approximates the
transformer's vector for the text. This step, after Model2Vec's
"tokenlearn", fits the rows to texts instead:

1. Texts: the glosses and examples of WordNet 3.0 (Debian's wordnet-base,
   the data.noun/verb/adj/adv files; the same data as retrieval/wordnet),
   each gloss prefixed with its first lemma ("oil: a slippery or viscous
   liquid..."). No evaluation data.
2. Targets: all-MiniLM-L6-v2's sentence vector of each text (mean of the
   outputs over the attention mask, normalised, at most 128 tokens),
   projected on the targets' first --dims principal components and
   normalised.
3. Start: the base table (distill.py's), mapped into the targets' space by
   the least-squares linear map from its text vectors to the targets, so
   that rows of tokens the texts never use stay in the same space.
4. Fit: Adam on 1 - cosine(normalised sum of rows, target), batches of 512,
   --epochs passes; the rows of the pass with the best cosine on a held-out
   twentieth of the texts are kept.
5. Quantise each row to int8 with its own scale (as distill.py does) and
   write model.bin and the Go tests' golden vectors.

Run once, offline, by hand (see README.md); the Go code is unchanged, only
its table and golden data are.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import struct
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import distill  # noqa: E402

BATCH = 256
MAX_TOKENS = 128


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="distill.py's model.bin")
    p.add_argument("--wordnet", default="/usr/share/wordnet", help="folder of WordNet's data.* files")
    p.add_argument("--out", required=True, help="output folder (model.bin, testdata/golden.json)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--version", default="v2", help="table version in the model name")
    return p.parse_args()


def wordnet_texts(folder: str) -> list[str]:
    """Glosses, with their first lemma, and the examples of every synset."""
    out: set[str] = set()
    files = sorted(glob.glob(os.path.join(folder, "data.*")))
    if not files:
        sys.exit(f"no WordNet data.* files in {folder}")
    for name in files:
        with open(name, encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue  # the licence header
                lemma = line.split(" ")[4].replace("_", " ")
                parts = [s.strip().strip('"').strip() for s in line.split("|", 1)[1].split(";")]
                parts = [s for s in parts if s]
                if parts:
                    out.add(f"{lemma}: {parts[0]}")
                out.update(s for s in parts[1:] if len(s.split()) >= 3)
    return sorted(out)


def read_table(path: str) -> tuple[str, np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == distill.MAGIC, path
    n = struct.unpack("<I", b[8:12])[0]
    name = b[12:12 + n].decode()
    o = 12 + n
    rows, dims = struct.unpack("<II", b[o:o + 8])
    o += 8
    scale = np.frombuffer(b[o:o + 4 * rows], "<f4")
    o += 4 * rows
    q = np.frombuffer(b[o:o + rows * dims], np.int8).reshape(rows, dims)
    return name, scale, q.astype(np.float64) * scale[:, None]


@torch.inference_mode()
def sentence_vectors(tokenizer, model, texts: list[str]) -> tuple[np.ndarray, list[list[int]]]:
    """The transformer's normalised mean-pooled vectors, and the token ids
    without [CLS] and [SEP]."""
    vecs = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    ids: list[list[int]] = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start:start + BATCH]
        enc = tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        v = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
        vecs[start:start + len(batch)] = v.numpy()
        for row, m in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist()):
            ids.append([t for t, k in zip(row, m) if k][1:-1])
        if start % (BATCH * 100) == 0:
            print(f"  encoded {start + len(batch)}/{len(texts)}", file=sys.stderr)
    return vecs, ids


def pooled(w: np.ndarray, ids: list[list[int]]) -> np.ndarray:
    v = np.stack([w[x].sum(0) for x in ids])
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def fit(base: np.ndarray, ids: list[list[int]], targets: np.ndarray, epochs: int, lr: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(ids))
    val, train = perm[: len(ids) // 20], perm[len(ids) // 20:]
    sample = train[:50000]
    m, *_ = np.linalg.lstsq(pooled(base, [ids[i] for i in sample]), targets[sample], rcond=None)
    start = base @ m

    def score(w: np.ndarray) -> float:
        return float((pooled(w, [ids[i] for i in val]) * targets[val]).sum(1).mean())

    print(f"held-out cosine: base mapped {score(start):.4f}", file=sys.stderr)
    w = torch.nn.Parameter(torch.tensor(start, dtype=torch.float32))
    opt = torch.optim.Adam([w], lr=lr)
    tok = [torch.tensor(x) for x in ids]
    tgt = torch.tensor(targets, dtype=torch.float32)
    best, best_w = -1.0, start
    for epoch in range(epochs):
        rng.shuffle(train)
        for s in range(0, len(train), 512):
            b = train[s:s + 512]
            flat = torch.cat([tok[i] for i in b])
            offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(tok[i]) for i in b])[:-1]]))
            v = torch.nn.functional.embedding_bag(flat, w, offsets, mode="sum")
            loss = 1 - torch.nn.functional.cosine_similarity(v, tgt[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        c = score(w.detach().double().numpy())
        print(f"epoch {epoch}: held-out cosine {c:.4f}", file=sys.stderr)
        if c > best:
            best, best_w = c, w.detach().double().numpy().copy()
    return best_w


def main() -> None:
    args = parse_args()
    np.random.seed(0)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # a fixed summation order
    t0 = time.time()

    src = distill.model_dir(None)
    tokenizer = AutoTokenizer.from_pretrained(src)
    model = AutoModel.from_pretrained(src).eval()
    _, base_scale, base = read_table(args.base)

    texts = wordnet_texts(args.wordnet)
    print(f"{len(texts)} WordNet texts", file=sys.stderr)
    texts.sort(key=len)  # less padding; the order does not change the vectors
    vecs, ids = sentence_vectors(tokenizer, model, texts)
    keep = [i for i, x in enumerate(ids) if x]
    ids, vecs = [ids[i] for i in keep], vecs[keep]
    print(f"encoded in {time.time() - t0:.0f}s", file=sys.stderr)

    dims = base.shape[1]
    targets = distill.pca(vecs, dims)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    w = fit(base, ids, targets, args.epochs, args.lr)
    w[base_scale == 0] = 0  # rows no text maps to stay empty
    q, scale = distill.quantise(w)

    os.makedirs(args.out, exist_ok=True)
    name = f"minilm-static-{args.version}-{dims}"
    path = os.path.join(args.out, "model.bin")
    distill.write_model(path, name, scale, q)
    distill.write_testdata(args.out, tokenizer, scale, q)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"{name}: {path} sha256 {digest}, {time.time() - t0:.0f}s in all", file=sys.stderr)


if __name__ == "__main__":
    main()
