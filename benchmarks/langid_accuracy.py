"""How well babelir names the language of short texts (babelir.data.langid, py3langid), per language.

What it measures: the queries of the pool benchmarks, the texts a server must identify: Bible verses
(``bible-xref-pool-<split>``: one verse in 22 languages) and Wikipedia short descriptions
(``wiki-pool-<split>``: a few words in en/es/fr), and a sample of 2,000 of their documents. Queries are
identified among the pool's own languages (as ``search``/``serve`` identify them among the index's) and
among every language py3langid knows; documents among every language (as ``babelir index`` identifies
documents without a language field). For each: accuracy
(right / all), the share left unknown below the confidence threshold, and the accuracy of those
identified, at thresholds 0, 0.5 (the default) and 0.8. Choose on ``--split dev``; report ``test`` once.

    python benchmarks/langid_accuracy.py --split dev
    python benchmarks/langid_accuracy.py --split test --markdown reports/language-identification-test.md
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import defaultdict

from babelir.data.langid import LanguageIdentifier
from babelir.evaluation.benchmarks import load_benchmark

THRESHOLDS = (0.0, 0.5, 0.8)


def measure(texts: list[tuple[str, str]], candidates: list[str] | None) -> dict[float, dict[str, dict[str, float]]]:
    """``threshold -> language -> {accuracy, unknown, precision, n}`` (and ``all``)."""
    out: dict[float, dict[str, dict[str, float]]] = {}
    scored = LanguageIdentifier(candidates, min_confidence=0.0).identify_with_confidence([t for _, t in texts])
    for threshold in THRESHOLDS:
        rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        for (truth, _), (found, confidence) in zip(texts, scored, strict=True):
            known = found is not None and confidence >= threshold
            rows[truth].append((known, known and found == truth))
            rows["all"].append((known, known and found == truth))
        out[threshold] = {
            lang: {
                "n": len(r),
                "accuracy": sum(right for _, right in r) / len(r),
                "unknown": sum(not known for known, _ in r) / len(r),
                "precision": (sum(right for _, right in r) / max(1, sum(known for known, _ in r))),
            }
            for lang, r in rows.items()
        }
    return out


def table(name: str, setting: str, result: dict[float, dict[str, dict[str, float]]]) -> str:
    langs = sorted(k for k in result[THRESHOLDS[0]] if k != "all") + ["all"]
    head = " | ".join(f"acc / unknown / precision @{t:g}" for t in THRESHOLDS)
    lines = [f"#### {name}, among {setting} (x100)", "", f"| language | n | {head} |",
             "|---|---:|" + "---:|" * len(THRESHOLDS)]
    for lang in langs:
        cells = [f"{100 * result[t][lang]['accuracy']:.1f} / {100 * result[t][lang]['unknown']:.1f} / "
                 f"{100 * result[t][lang]['precision']:.1f}" for t in THRESHOLDS]
        n = int(result[THRESHOLDS[0]][lang]["n"])
        lines.append(f"| {'**all**' if lang == 'all' else lang} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--markdown", help="also write the tables here")
    args = parser.parse_args()
    parts = [f"Language identification of short texts, {args.split} split (py3langid through "
             f"babelir.data.langid; {platform.processor() or platform.machine()}).", "",
             f"Command: `python benchmarks/langid_accuracy.py --split {args.split}`", ""]
    for name in (f"bible-xref-pool-{args.split}", f"wiki-pool-{args.split}"):
        bench = load_benchmark(name)
        texts = [(bench.query_language(q) or "", t) for q, t in bench.queries.items()]
        docs = [(bench.doc_language(d) or "", t) for d, t in bench.corpus.items()]
        docs = [docs[i] for i in random.Random(0).sample(range(len(docs)), min(2000, len(docs)))]
        for what, items, setting, candidates in (
            ("queries", texts, "the pool's languages", list(bench.meta.languages)),  # search and serve
            ("queries", texts, "every language", None),
            ("documents", docs, "every language", None),  # babelir index, documents without a language
        ):
            t0 = time.perf_counter()
            result = measure(items, candidates)
            took = (time.perf_counter() - t0) / len(items) * 1000
            parts += [table(f"{name} {what}", setting, result), "", f"({len(items)} texts, {took:.2f} ms per text)", ""]
    text = "\n".join(parts)
    print(text)
    if args.markdown:
        from babelir.utils.atomic import atomic_write_text

        atomic_write_text(args.markdown, text)


if __name__ == "__main__":
    main()
