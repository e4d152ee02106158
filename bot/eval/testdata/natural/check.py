#!/usr/bin/env python3
"""Check natural.jsonl against its sources.

Usage: python3 bot/eval/testdata/natural/check.py [--shared DIR]

DIR defaults to ../shared relative to the repository root (that is, the folder holding
corpus/ and eval/). Exits 0 when every item passes, 1 on any error, and 0 with a message
(checking only the file's own structure) when the shared data is absent.

Checks:
  - every line is a JSON object with the expected fields and values;
  - ids are unique;
  - answerable items: each answer and the evidence are exact substrings of the answering
    paragraph (shipped article: one non-empty line of the file; SQuAD/BBC:
    paragraphs[paragraph_index] of article_id); answers are 1-6 words;
  - unanswerable/off-corpus items: answers == [], no evidence, answerable false;
  - no question equals (after normalising case and punctuation) a seed question or, for
    SQuAD items, a SQuAD question; the closest SQuAD question on the same paragraph is
    reported when word overlap is high;
  - prints counts per corpus x kind x split.
"""
import argparse
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
DATA = os.path.join(HERE, "natural.jsonl")

CORPORA = {"shipped", "squad-dev", "bbc", "none"}
KINDS = {"answerable", "unanswerable", "off-corpus"}
SPLITS = {"tune", "test"}


def norm(s):
    return " ".join(re.findall(r"[a-z0-9]+", s.lower().replace("’", "'")))


def words(s):
    return set(norm(s).split())


def load_jsonl(path, key="id"):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                out[o[key]] = o
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    args = ap.parse_args()
    shared = os.path.normpath(args.shared)

    errors = []
    warnings = []
    items = []
    with open(DATA, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: bad JSON: {e}")

    seen = set()
    for it in items:
        iid = it.get("id", "?")
        if iid in seen:
            errors.append(f"{iid}: duplicate id")
        seen.add(iid)
        for k in ("id", "question", "answers", "answerable", "corpus", "kind", "split"):
            if k not in it:
                errors.append(f"{iid}: missing field {k}")
        if it.get("corpus") not in CORPORA:
            errors.append(f"{iid}: bad corpus {it.get('corpus')!r}")
        if it.get("kind") not in KINDS:
            errors.append(f"{iid}: bad kind {it.get('kind')!r}")
        if it.get("split") not in SPLITS:
            errors.append(f"{iid}: bad split {it.get('split')!r}")
        if not isinstance(it.get("question"), str) or not it.get("question", "").strip():
            errors.append(f"{iid}: empty question")
        ans = it.get("answers")
        if not isinstance(ans, list):
            errors.append(f"{iid}: answers is not a list")
            continue
        if it.get("kind") == "answerable":
            if it.get("answerable") is not True:
                errors.append(f"{iid}: kind answerable but answerable != true")
            if not ans:
                errors.append(f"{iid}: answerable with no answers")
            if not isinstance(it.get("evidence"), str) or not it["evidence"]:
                errors.append(f"{iid}: answerable with no evidence")
            for a in ans:
                nw = len(a.split())
                if not 1 <= nw <= 6:
                    warnings.append(f"{iid}: answer {a!r} has {nw} words")
            if it.get("corpus") in ("squad-dev", "bbc"):
                if "article_id" not in it or not isinstance(it.get("paragraph_index"), int):
                    errors.append(f"{iid}: needs article_id and paragraph_index")
            if it.get("corpus") == "none":
                errors.append(f"{iid}: answerable item with corpus none")
        else:
            if it.get("answerable") is not False:
                errors.append(f"{iid}: unanswerable but answerable != false")
            if ans:
                errors.append(f"{iid}: unanswerable with answers")
            if it.get("evidence"):
                errors.append(f"{iid}: unanswerable with evidence")
            if it.get("kind") == "off-corpus" and it.get("corpus") != "none":
                errors.append(f"{iid}: off-corpus item must have corpus none")
            if it.get("kind") == "unanswerable" and it.get("corpus") in ("squad-dev", "bbc") and "article_id" not in it:
                errors.append(f"{iid}: unanswerable {it['corpus']} item needs article_id")

    article_path = os.path.join(shared, "corpus", "azerbaijan-israel-ties.txt")
    squad_path = os.path.join(shared, "eval", "squad-dev", "articles.jsonl")
    squad_q_path = os.path.join(shared, "eval", "squad-dev", "questions.jsonl")
    bbc_path = os.path.join(shared, "eval", "bbc", "articles.jsonl")
    seed_path = os.path.join(shared, "eval", "seed-questions.jsonl")
    have = all(os.path.exists(p) for p in (article_path, squad_path, squad_q_path, bbc_path, seed_path))
    if not have:
        print(f"shared data not found under {shared}; checked structure only")
    else:
        with open(article_path, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        squad = load_jsonl(squad_path)
        bbc = load_jsonl(bbc_path)
        seeds = {norm(o["question"]) for o in load_jsonl(seed_path).values()}
        squad_qs = collections.defaultdict(list)
        squad_all = set()
        with open(squad_q_path, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                squad_qs[(o["article_id"], o["paragraph_index"])].append(o["question"])
                squad_all.add(norm(o["question"]))

        for it in items:
            iid, q = it.get("id"), it.get("question", "")
            if norm(q) in seeds:
                errors.append(f"{iid}: question equals a seed question")
            if norm(q) in squad_all:
                errors.append(f"{iid}: question equals a SQuAD question")
            corpus = it.get("corpus")
            if corpus == "squad-dev" and it.get("article_id") not in squad:
                errors.append(f"{iid}: unknown SQuAD article {it.get('article_id')!r}")
                continue
            if corpus == "bbc" and it.get("article_id") not in bbc:
                errors.append(f"{iid}: unknown BBC article {it.get('article_id')!r}")
                continue
            if it.get("kind") != "answerable":
                continue
            ev = it.get("evidence") or ""
            if corpus == "shipped":
                paras = [l for l in lines if ev and ev in l]
                if not paras:
                    errors.append(f"{iid}: evidence not found verbatim in any line of the article: {ev!r}")
                    continue
                para = paras[0]
            else:
                src = squad if corpus == "squad-dev" else bbc
                ps = src[it["article_id"]]["paragraphs"]
                pi = it["paragraph_index"]
                if not 0 <= pi < len(ps):
                    errors.append(f"{iid}: paragraph_index {pi} out of range")
                    continue
                para = ps[pi]
                if ev not in para:
                    errors.append(f"{iid}: evidence not in paragraph {pi}: {ev!r}")
            for a in it["answers"]:
                if a not in para:
                    errors.append(f"{iid}: answer not verbatim in its paragraph: {a!r}")
                elif a not in ev:
                    warnings.append(f"{iid}: answer {a!r} is in the paragraph but not in the evidence")
            if corpus == "squad-dev":
                qw = words(q)
                best, bq = 0.0, ""
                for sq in squad_qs.get((it["article_id"], it["paragraph_index"]), []):
                    sw = words(sq)
                    j = len(qw & sw) / max(1, len(qw | sw))
                    if j > best:
                        best, bq = j, sq
                if best >= 0.5:
                    warnings.append(f"{iid}: word overlap {best:.2f} with SQuAD question {bq!r}")

    counts = collections.Counter((it.get("corpus"), it.get("kind"), it.get("split")) for it in items)
    print(f"{len(items)} items in {os.path.relpath(DATA, REPO)}")
    print(f"{'corpus':<10} {'kind':<13} {'tune':>5} {'test':>5} {'total':>6}")
    for c in ("shipped", "squad-dev", "bbc", "none"):
        for k in ("answerable", "unanswerable", "off-corpus"):
            tu, te = counts[(c, k, "tune")], counts[(c, k, "test")]
            if tu or te:
                print(f"{c:<10} {k:<13} {tu:>5} {te:>5} {tu + te:>6}")
    tu = sum(v for (c, k, s), v in counts.items() if s == "tune")
    print(f"{'all':<10} {'':<13} {tu:>5} {len(items) - tu:>5} {len(items):>6}")
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
