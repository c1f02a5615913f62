#!/usr/bin/env python3
"""Builds the movie-sentences task from Pang & Lee's sentence polarity data (v1.0).

Debian's python3-pattern ships the 4,000 Rotten Tomatoes snippets (2,000 positive, 2,000
negative; the corpus SST was built from) as test/corpora/polarity-en-pang&lee2.csv: one
"label","sentence" row each, label 1 or -1, the text lower-cased and tokenised as the original
(spaces around punctuation, "it 's"). scripts/fetch-data downloads the .deb (never installs it),
checks its sha256 and runs this script; the files it writes are checked against
scripts/data/movie-sentences.sha256. Upstream calls the corpora "meant for personal use": the
derived files are not committed.

Split: a stratified, seeded split of 3,000 / 500 / 500 (1,500 / 250 / 250 per class): each class's
rows in file order are shuffled with random.Random(20141) and cut; each split is then shuffled with
random.Random(20142). The text is the row's sentence with surrounding whitespace removed; nothing
else is changed. Output: OUT/{train,dev,test}.jsonl with {"text", "label" (negative|positive),
"source": "rt-polarity"}.

usage: movie_sentences.py CSV OUT
"""
import csv
import json
import os
import random
import sys

SIZES = {"train": 1500, "dev": 250, "test": 250}  # per class
LABELS = {"-1": "negative", "1": "positive"}


def die(message):
    print(f"movie_sentences: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        die("usage: movie_sentences.py polarity-en-pang&lee2.csv OUT")
    path, out = sys.argv[1:]
    by_label = {"negative": [], "positive": []}
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, row in enumerate(csv.reader(f), 1):
            if len(row) != 2 or row[0] not in LABELS:
                die(f"{path}: row {n} is {row!r}, expected \"1\" or \"-1\" and a sentence")
            text = row[1].strip()
            if not text:
                die(f"{path}: row {n} has an empty sentence")
            by_label[LABELS[row[0]]].append(text)
    for label, rows in by_label.items():
        if len(rows) != 2000:
            die(f"{path}: {len(rows)} {label} sentences, expected 2000")
    splits = {name: [] for name in SIZES}
    for label in ("negative", "positive"):
        rows = list(by_label[label])
        random.Random(20141).shuffle(rows)
        at = 0
        for name, size in SIZES.items():
            splits[name] += [{"text": t, "label": label, "source": "rt-polarity"} for t in rows[at:at + size]]
            at += size
    os.makedirs(out, exist_ok=True)
    for name, rows in splits.items():
        random.Random(20142).shuffle(rows)
        tmp = os.path.join(out, name + ".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(tmp, os.path.join(out, name + ".jsonl"))
    print(f"movie_sentences: {', '.join(f'{n} {len(r)}' for n, r in splits.items())} in {out}")


if __name__ == "__main__":
    main()
