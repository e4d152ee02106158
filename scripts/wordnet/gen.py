#!/usr/bin/env python3
"""Writes retrieval/wordnet/senses.txt from WordNet 3.0 (Debian's wordnet-base).

Each line is a single-word lemma (lowercase letters only) and the numbers of
the synsets of its first SENSES senses (WordNet lists a word's senses most
frequent first) that have at least two single-word lemmas: two words share a
number when WordNet gives them a common sense. Inflected forms from WordNet's
exception lists (went, children, ...) carry their lemma's numbers.

Run once, offline (not in CI):

    apt-get download wordnet-base && dpkg-deb -x wordnet-base_*.deb wn
    python3 scripts/wordnet/gen.py wn/usr/share/wordnet > retrieval/wordnet/senses.txt
"""
import re
import sys

SENSES = 3
POS = ["noun", "verb", "adj", "adv"]


def main(d):
    members = {}
    for pos in POS:
        for line in open(f"{d}/data.{pos}", encoding="latin-1"):
            if line.startswith("  "):
                continue
            f = line.split()
            n = int(f[3], 16)
            words = [re.sub(r"\(.*\)$", "", f[4 + 2 * i].lower()) for i in range(n)]
            members[pos[0] + f[0]] = [w for w in words if w.isalpha() and w.isascii()]
    senses = {}
    for pos in POS:
        for line in open(f"{d}/index.{pos}", encoding="latin-1"):
            if line.startswith("  "):
                continue
            f = line.split()
            w = f[0]
            if not (w.isalpha() and w.isascii()):
                continue
            offsets = f[6 + int(f[3]):]
            for o in offsets[:SENSES]:
                if len(members.get(pos[0] + o, [])) >= 2:
                    senses.setdefault(w, []).append(pos[0] + o)
    for pos in POS:
        for line in open(f"{d}/{pos}.exc", encoding="latin-1"):
            f = line.split()
            if len(f) >= 2 and f[0].isalpha() and f[0] not in senses and f[1] in senses:
                senses[f[0]] = senses[f[1]]
    ids = {}
    for w in sorted(senses):
        nums = []
        for k in senses[w]:
            n = ids.setdefault(k, len(ids))
            if n not in nums:
                nums.append(n)
        print(w, " ".join(map(str, nums)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet")
