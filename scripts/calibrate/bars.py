#!/usr/bin/env python3
"""Choose the gate's bars from `verbatim eval answers --details` files.

Run the natural set's tune split with the bars of the measure off, one details file per corpus.
For the closeness of the nearest sentence (MIN_CLOSENESS, MIN_ANSWER_CLOSENESS):

    for c in shipped squad-dev bbc; do
      MIN_CLOSENESS=-1 MIN_ANSWER_CLOSENESS=-1 verbatim eval answers --articles ARTICLES_OF_$c \\
        --questions bot/eval/testdata/natural/natural.jsonl --corpus $c --split tune --details /tmp/d-$c.jsonl
    done
    python3 scripts/calibrate/bars.py /tmp/d-shipped.jsonl /tmp/d-squad-dev.jsonl /tmp/d-bbc.jsonl

For the topicality of the passages' articles (MIN_TOPICALITY), run with MIN_TOPICALITY=-1 and
pass `--measure topicality` first; a file whose questions have no topicality (a corpus over
MAX_SENTENCES) is skipped.

With the bars off, every refusal is the other bars'; a bar of the measure only adds refusals,
so each bar's effect follows from the files: offline, a question is refused when it already was
or its measure is under the bar, and answered with the gold answer when it was and its measure
reaches the bar; with a model, it is asked unless the gate refuses it. Closeness has an offline
bar and a gate; topicality is only a gate, which applies offline too, so for it both columns
describe the one bar. Offline use only; nothing here runs in the product or its tests.
"""

import json
import sys

BARS = {
    "closeness": [-1, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4],
    "topicality": [-1, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.1],
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def share(n, d):
    return f"{n / d:.3f}" if d else "  -  "


def main(measure, paths):
    sets = {}
    for p in paths:
        rows = load(p)
        if any(measure not in r["answer"]["judgement"] for r in rows):
            if measure == "closeness":
                sys.exit(f"{p}: a question has no closeness (SENTENCE_ENCODER off, or the encoder failed)")
            print(f"{p}: skipped, a question has no {measure}", file=sys.stderr)
            continue
        sets[p] = rows
    paths = list(sets)
    print("offline: answered with the gold answer / unanswerable refused / off-corpus refused")
    print("gate, with a model: answerable asked / off-corpus refused before the model\n")
    print(f"{'bar':>5}  " + "  ".join(f"{p.split('/')[-1]:>34}" for p in paths))
    for bar in BARS[measure]:
        cells = []
        for rows in sets.values():
            close = lambda r: r["answer"]["judgement"][measure]  # noqa: E731
            ans = [r for r in rows if r["answerable"]]
            una = [r for r in rows if not r["answerable"] and not r["off_corpus"]]
            off = [r for r in rows if r["off_corpus"]]
            refused = lambda r: r["answer"]["refused"] or close(r) < bar  # noqa: E731
            hit = sum(1 for r in ans if r["gold_in_quote"] and close(r) >= bar)
            asked = sum(1 for r in ans if close(r) >= bar)
            cells.append(f"{share(hit, len(ans))}/{share(sum(map(refused, una)), len(una))}/"
                         f"{share(sum(map(refused, off)), len(off))} "
                         f"{share(asked, len(ans))}/{share(sum(1 for r in off if close(r) < bar), len(off))}")
        print(f"{bar:5}  " + "  ".join(f"{c:>34}" for c in cells))


if __name__ == "__main__":
    args = sys.argv[1:]
    measure = "closeness"
    if args[:1] == ["--measure"] and len(args) > 1:
        measure, args = args[1], args[2:]
    if not args or measure not in BARS:
        sys.exit(__doc__)
    main(measure, args)
