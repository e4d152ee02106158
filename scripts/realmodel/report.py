#!/usr/bin/env python3
"""Prints the figures of the real-model harness (scripts/realmodel/run.sh).

  report.py answers NAME REPORT.json [DETAILS.jsonl] [--replies REPLIES.jsonl]
  report.py retrieval NAME REPORT.json
  report.py table SUMMARY.jsonl

'answers' and 'retrieval' print one step's figures and append one JSON line
to $SUMMARY (if set); 'table' prints every step of a summary as a Markdown
table. From the --details file 'answers' also counts the answer modes, the
reasons answers fell back to quotes, and prose that looks like raw JSON,
with an example of each, and from the server's reply log what the model
wrote. Standard library only.
"""

import collections
import json
import os
import re
import sys


def lat(r, key):
    """A latency of a report in milliseconds: "p50_ms" (newer reports) or
    "P50" in nanoseconds (older ones)."""
    if key + "_ms" in r:
        return float(r[key + "_ms"])
    old = {"p50": "P50", "p95": "P95", "overhead_p50": "OverheadP50", "overhead_p95": "OverheadP95"}[key]
    return r.get(old, 0) / 1e6


def load_jsonl(path):
    out = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def summary_append(entry):
    path = os.environ.get("SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def short(s, n=220):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


JSONISH = re.compile(r'[{\[]\s*"|"(answer|quotes|answerable|source|text)"\s*:|```')


def prose(ans):
    """The answer's own words: the text segments, not the quotes."""
    return " ".join(seg.get("text", "") for seg in ans.get("body") or [] if seg.get("type") == "text")


def reason(note):
    # "Showing quotes from the best-matching passages: the language model failed (HTTP 500)."
    r = note.split(": ", 1)[1] if ": " in note else note
    return re.sub(r"\s+", " ", r).strip().rstrip(".")


def answers(name, report_path, details_path=None, replies_path=None):
    with open(report_path, encoding="utf-8") as f:
        r = json.load(f)
    print(f"== {name}: {r['Questions']} questions ({r['Answerable']} answerable, {r['Unanswerable']} unanswerable"
          f", {r['OffCorpus']} off-corpus)")
    print(f"   generated {r['Generated']}, fell back to quotes {r['Fallbacks']}")
    print(f"   quote exactness    {r['QuoteExactness']:.3f} ({r['Quotes']} quotes)")
    print(f"   answer in quote    {r['AnswerInQuote']:.3f} ({r['WithAnswers']} with gold answers)")
    if r.get("WithEvidence"):
        print(f"   evidence in quote  {r['EvidenceInQuote']:.3f} ({r['WithEvidence']} with evidence)")
    print(f"   citation precision {r['CitationPrecision']:.3f}  gold cited {r['GoldCited']:.3f} ({r['Citations']} citations)")
    print(f"   false refusals     {r['FalseRefusals']:.3f}  refusal accuracy {r['RefusalAccuracy']:.3f}"
          f"  off-corpus refused {r['OffCorpusRefused']:.3f}")
    print(f"   model asked        answerable {r['AskedAnswerable']:.3f}  off-corpus {r['AskedOffCorpus']:.3f}")
    c = r.get("Check") or {}
    print("   verification       " + " ".join(f"{k} {v}" for k, v in c.items()))
    print(f"   latency            p50 {lat(r, 'p50'):.0f} ms  p95 {lat(r, 'p95'):.0f} ms"
          f"  (overhead p50 {lat(r, 'overhead_p50'):.1f} ms)")
    entry = {"step": name, "kind": "answers", "questions": r["Questions"], "generated": r["Generated"],
             "fallbacks": r["Fallbacks"], "quote_exactness": r["QuoteExactness"], "quotes": r["Quotes"],
             "answer_in_quote": r["AnswerInQuote"], "false_refusals": r["FalseRefusals"],
             "refusal_accuracy": r["RefusalAccuracy"], "asked_answerable": r["AskedAnswerable"],
             "asked_off_corpus": r["AskedOffCorpus"], "p50_ms": round(lat(r, "p50")), "p95_ms": round(lat(r, "p95"))}

    details = load_jsonl(details_path)
    replies = load_jsonl(replies_path)
    wrote = {}
    for x in replies:
        if x.get("question") and x.get("reply") is not None:
            wrote.setdefault(" ".join(x["question"].split()), x["reply"])

    def model_wrote(d):
        w = wrote.get(" ".join(d["question"].split()))
        if w is None:
            return
        try:
            obj = json.loads(w)
            facts = f" [answerable={json.dumps(obj.get('answerable'))}, {len(obj.get('quotes') or [])} quotes]"
        except (ValueError, AttributeError):
            facts = " [not JSON]"
        print(f"      the model wrote{facts}: {short(w, 240)}")

    if details:
        modes = collections.Counter()
        reasons = collections.Counter()
        examples = {}
        raw_json = []
        refused_generated = 0
        for d in details:
            a = d["answer"]
            key = a["mode"] + (" refused" if a.get("refused") else "")
            modes[key] += 1
            if a.get("note"):
                rs = reason(a["note"])
                reasons[rs] += 1
                examples.setdefault(rs, d)
            if JSONISH.search(prose(a)):
                raw_json.append(d)
            if a["mode"] == "generated" and a.get("refused"):
                refused_generated += 1
        print(f"   modes              " + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())))
        for rs, n in reasons.most_common():
            ex = examples[rs]
            print(f"   fell back ({n}x): {rs}")
            print(f"      e.g. {ex['id']}: {short(ex['question'], 100)}")
            model_wrote(ex)
        if raw_json:
            ex = raw_json[0]
            print(f"   prose that looks like raw JSON: {len(raw_json)} answers, e.g. {ex['id']} ({ex['answer']['mode']}):")
            print(f"      {short(prose(ex['answer']), 300)}")
        else:
            print("   prose that looks like raw JSON: none")
        gen = [d for d in details if d["answer"]["mode"] == "generated" and not d["answer"].get("refused")]
        if gen:
            ex = gen[0]
            print(f"   a generated answer, {ex['id']}: {short(ex['answer']['text'], 300)}")
            model_wrote(ex)
        gref = [d for d in details if d["answer"]["mode"] == "generated" and d["answer"].get("refused")]
        if gref:
            ex = next((d for d in gref if d["answerable"]), gref[0])
            print(f"   refused by the model ({len(gref)}x), e.g. {ex['id']} (answerable: {ex['answerable']}):"
                  f" {short(ex['question'], 100)}")
            model_wrote(ex)
        entry.update({"modes": dict(modes), "fallback_reasons": dict(reasons), "raw_json_answers": len(raw_json)})

    if replies:
        status = collections.Counter(x.get("status") for x in replies)
        finish = collections.Counter(x.get("finish_reason") for x in replies if "reply" in x)
        parsed = 0
        bad = []
        for x in replies:
            if x.get("reply") is None:
                continue
            try:
                obj = json.loads(x["reply"])
                if isinstance(obj, dict) and {"answer", "quotes", "answerable"} <= set(obj):
                    parsed += 1
                    continue
            except ValueError:
                pass
            bad.append(x)
        n = sum(1 for x in replies if "reply" in x)
        print(f"   server replies     {len(replies)} requests, HTTP " +
              ", ".join(f"{k}: {v}" for k, v in sorted(status.items(), key=lambda kv: str(kv[0]))) +
              f"; finish " + ", ".join(f"{k}: {v}" for k, v in finish.items()) +
              f"; {parsed}/{n} replies are JSON with answer/quotes/answerable")
        errs = [x for x in replies if x.get("error")]
        if errs:
            print(f"      e.g. error: {short(errs[0]['error'], 260)}")
        if bad:
            print(f"      e.g. not the reply format: {short(bad[0]['reply'], 260)}")
        entry.update({"http": {str(k): v for k, v in status.items()}, "replies_in_format": parsed, "replies": n})
    summary_append(entry)


def retrieval(name, report_path):
    with open(report_path, encoding="utf-8") as f:
        r = json.load(f)
    print(f"== {name}: {r['Questions']} questions over {r['Paragraphs']} paragraphs"
          f" ({r['Skipped']} skipped, {r['Missing']} gold missing)")
    print(f"   recall@1 {r['RecallAt1']:.3f}  recall@5 {r['RecallAt5']:.3f}  recall@10 {r['RecallAt10']:.3f}"
          f"  MRR {r['MRR']:.3f}  query p50 {lat(r, 'p50'):.1f} ms  p95 {lat(r, 'p95'):.1f} ms")
    summary_append({"step": name, "kind": "retrieval", "questions": r["Questions"], "recall1": r["RecallAt1"],
                    "recall5": r["RecallAt5"], "recall10": r["RecallAt10"], "mrr": r["MRR"],
                    "p50_ms": round(lat(r, "p50"), 1), "p95_ms": round(lat(r, "p95"), 1)})


def table(path):
    rows = load_jsonl(path)
    ans = [x for x in rows if x["kind"] == "answers"]
    ret = [x for x in rows if x["kind"] == "retrieval"]
    dur = {x["step"]: x["seconds"] for x in rows if x["kind"] == "time"}
    if ans:
        print("| step | questions | generated | fallback | quote exactness | answer in quote | false refusals"
              " | refusal accuracy | model asked (answerable) | p50 | p95 | wall time |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for x in ans:
            print(f"| {x['step']} | {x['questions']} | {x['generated']} | {x['fallbacks']} | {x['quote_exactness']:.3f}"
                  f" | {x['answer_in_quote']:.3f} | {x['false_refusals']:.3f} | {x['refusal_accuracy']:.3f}"
                  f" | {x['asked_answerable']:.3f} | {x['p50_ms'] / 1000:.1f} s | {x['p95_ms'] / 1000:.1f} s"
                  f" | {dur.get(x['step'], 0):.0f} s |")
    if ret:
        print()
        print("| retrieval | recall@1 | recall@5 | recall@10 | MRR | query p50 | wall time |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for x in ret:
            print(f"| {x['step']} | {x['recall1']:.3f} | {x['recall5']:.3f} | {x['recall10']:.3f} | {x['mrr']:.3f}"
                  f" | {x['p50_ms']:.1f} ms | {dur.get(x['step'], 0):.0f} s |")


def main(argv):
    if len(argv) >= 3 and argv[0] == "answers":
        rest = argv[3:]
        replies = None
        if "--replies" in rest:
            i = rest.index("--replies")
            replies = rest[i + 1]
            rest = rest[:i] + rest[i + 2:]
        answers(argv[1], argv[2], rest[0] if rest else None, replies)
    elif len(argv) == 3 and argv[0] == "retrieval":
        retrieval(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "table":
        table(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
