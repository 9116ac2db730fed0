"""Language bias of an embedding space: is language, rather than meaning, what the vectors encode?

The method's claim 6 is that co-training makes representations language-agnostic. Three views, all on
the same held-out New Testament verses in every language (so content is fixed and only language
varies; the verses are a fixed sample of the ``bible-xref`` corpus, whose embeddings evaluation has
usually cached already):

* **Language-ID probe**: a linear classifier (scikit-learn logistic regression) predicts the language
  from the embedding, cross-validated with whole verses held out (``GroupKFold``: a verse's
  translations never sit on both sides). Accuracy near chance (1/L) means no linear language direction.
* **Same- vs cross-language similarity of unrelated verses**: mean cosine of pairs of *different*
  verses (and not cross-references of each other) written in the same language, versus in two
  different languages. A language-agnostic space has no gap; a biased one ranks unrelated
  same-language text above relevant foreign text. The mean cosine of translations is shown beside.
* **A picture**: PCA (or t-SNE) of the verses, coloured by language: clusters per language are bias.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np

from babelir.data.errors import DataError
from babelir.utils.errors import ModelError

SEED = 20230603


def _sample_verses(n: int):
    from babelir.evaluation.benchmarks.bible import selection

    _, corpus, _ = selection("small")
    rng = random.Random(SEED)
    return sorted(rng.sample(list(corpus), min(n, len(corpus))))


def probe_accuracy(
    emb: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int = 5
) -> dict[str, float]:
    """Cross-validated accuracy of a logistic-regression language-ID probe (verses grouped by id)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    n_groups = len(set(groups.tolist()))
    folds = max(2, min(folds, n_groups))
    clf = LogisticRegression(max_iter=2000)
    scores = cross_val_score(clf, emb, labels, groups=groups, cv=GroupKFold(n_splits=folds), n_jobs=1)
    return {
        "accuracy": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "chance": 1.0 / len(set(labels.tolist())),
        "folds": folds,
    }


def similarity_profile(
    emb: np.ndarray, langs: list[str], verse_idx: np.ndarray, related: np.ndarray, languages: list[str]
) -> dict[str, Any]:
    """Mean cosine of unrelated same-language pairs, unrelated cross-language pairs and translations.

    ``related[i, j]`` marks verse pairs that are cross-references (excluded from "unrelated").
    """
    lang_idx = np.array([languages.index(lang) for lang in langs])
    sims = emb @ emb.T
    same_verse = verse_idx[:, None] == verse_idx[None, :]
    unrelated = ~same_verse & ~related[verse_idx][:, verse_idx]
    same_lang = lang_idx[:, None] == lang_idx[None, :]
    per_language: dict[str, dict[str, float]] = {}
    for li, lang in enumerate(languages):
        rows = lang_idx == li
        s = sims[rows]
        per_language[lang] = {
            "same_language_unrelated": float(s[unrelated[rows] & same_lang[rows]].mean()),
            "cross_language_unrelated": float(s[unrelated[rows] & ~same_lang[rows]].mean()),
            "translations": float(s[same_verse[rows] & ~same_lang[rows]].mean())
            if len(languages) > 1
            else float("nan"),
        }
        per_language[lang]["gap"] = (
            per_language[lang]["same_language_unrelated"] - per_language[lang]["cross_language_unrelated"]
        )
    overall = {
        "same_language_unrelated": float(sims[unrelated & same_lang].mean()),
        "cross_language_unrelated": float(sims[unrelated & ~same_lang].mean())
        if len(languages) > 1
        else float("nan"),
        "translations": float(sims[same_verse & ~same_lang].mean()) if len(languages) > 1 else float("nan"),
    }
    overall["gap"] = overall["same_language_unrelated"] - overall["cross_language_unrelated"]
    # share of verses whose nearest unrelated neighbour... is in the same language: retrieval-side bias
    masked = np.where(unrelated, sims, -np.inf)
    nearest = masked.argmax(axis=1)
    overall["nearest_unrelated_same_language"] = float(np.mean(lang_idx[nearest] == lang_idx))
    overall["nearest_unrelated_same_language_chance"] = 1.0 / len(languages)
    return {"overall": overall, "per_language": per_language}


def plot_projection(
    emb: np.ndarray, langs: list[str], languages: list[str], path: Path, method: str, title: str
) -> None:
    """Scatter of a 2-D projection coloured by language (Agg backend: no display needed)."""
    from babelir.utils.extras import require

    matplotlib = require("matplotlib", "plots", "the bias report's language picture")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(5, (len(emb) - 1) // 3)))
        xy = TSNE(n_components=2, init="pca", random_state=0, perplexity=perplexity).fit_transform(emb)
    else:
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=0).fit_transform(emb)
    cmap = plt.get_cmap("tab20")
    markers = ["o", "s", "^", "D"]
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    lang_arr = np.array(langs)
    for i, lang in enumerate(languages):
        sel = lang_arr == lang
        # tab20 comes in dark/light pairs: take the dark ones first so neighbours in the list differ
        colour = cmap((2 * i) % 20 + (i // 10) % 2)
        ax.scatter(
            xy[sel, 0], xy[sel, 1], s=9, alpha=0.7, color=colour, marker=markers[(i // 20) % 4], label=lang
        )
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=2, fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


BIAS_KIND = "bias report"  # babelir.utils.ownership's kind of the three files a report writes


def bias_report(
    model_or_name,
    output_dir: str | os.PathLike,
    languages: list[str] | None = None,
    verses: int = 200,
    method: str = "pca",
    batch_size: int = 32,
    use_cache: bool = True,
    show_progress: bool = True,
    cache_root: str | os.PathLike | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Compute the three views, write ``bias.json``, ``bias.md`` and ``bias_<method>.png``; return the report.

    ``device``: where a model loaded by name or path encodes (``auto``, ``cpu``, ``cuda``, ``cuda:N``)."""
    import time

    from babelir.data.sources import bible
    from babelir.evaluation.benchmarks.bible import usable
    from babelir.evaluation.retrieval.loading import load_retriever
    from babelir.evaluation.retrieval.retrievers import DenseRetriever
    from babelir.evaluation.scoring.runner import environment
    from babelir.utils.atomic import atomic_write_json, atomic_write_text
    from babelir.utils.ownership import check_file, record_file

    start = time.perf_counter()
    files = [Path(output_dir) / name for name in ("bias.json", "bias.md", f"bias_{method}.png")]
    for file in files:  # a user's bias.json is theirs: refused before the encoding, not after
        check_file(file, BIAS_KIND, "--output-dir")
    languages = list(dict.fromkeys(languages or bible.LANGUAGES))  # a language named twice counts once
    if verses < 2:  # the probe is cross-validated over verses: two folds need two verses
        raise DataError(None, None, f"--verses {verses}: a language-bias report needs at least 2 verses")
    unknown = [lang for lang in languages if lang not in bible.LANGUAGES]
    if unknown:
        raise DataError(None, None, f"no Bible text for {', '.join(unknown)}; languages: {', '.join(bible.LANGUAGES)}")
    if len(languages) < 2:
        raise DataError(None, None, "a language-bias report needs at least two languages")
    retriever = load_retriever(
        model_or_name, cache_root=cache_root, use_cache=use_cache, scoring="dense", device=device
    )
    if not isinstance(retriever, DenseRetriever):
        raise ModelError(None, None, f"{retriever.name} has no embeddings: a bias report needs a dense model")
    vids = _sample_verses(verses)
    texts, langs, verse_idx = [], [], []
    for lang in languages:
        table = usable(lang)
        for i, vid in enumerate(vids):
            texts.append(table[vid])
            langs.append(lang)
            verse_idx.append(i)
    emb, stats = retriever.embed(texts, "document", batch_size, show_progress, desc="bias: verses")
    emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    verse_arr = np.array(verse_idx)
    links = bible.cross_references_within(bible.NEW_TESTAMENT)
    pos = {vid: i for i, vid in enumerate(vids)}
    related = np.zeros((len(vids), len(vids)), dtype=bool)
    for src, dsts in links.items():
        if src in pos:
            for dst in dsts:
                if dst in pos:
                    related[pos[src], pos[dst]] = related[pos[dst], pos[src]] = True
    probe = probe_accuracy(emb, np.array(langs), verse_arr)
    sims = similarity_profile(emb, langs, verse_arr, related, languages)
    out = Path(output_dir)
    png = out / f"bias_{method}.png"
    model_info = retriever.describe()
    title = (
        f"{model_info.get('name')}: {len(vids)} NT verses x {len(languages)} languages ({method.upper()}); "
        f"language-ID probe {probe['accuracy']:.2f} (chance {probe['chance']:.2f})"
    )
    plot_projection(emb, langs, languages, png, method, title)
    report: dict[str, Any] = {
        "model": model_info,
        "languages": languages,
        "verses": len(vids),
        "texts": len(texts),
        "probe": probe,
        "similarity": sims,
        "plot": str(png),
        "method": method,
        "encoded_texts": stats.encoded,
        "cached_texts": stats.cached,
        "seconds": round(time.perf_counter() - start, 2),
        "environment": environment(),
    }
    report["markdown"] = bias_markdown(report)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "bias.json", report)
    atomic_write_text(out / "bias.md", report["markdown"])
    for file in files:
        record_file(file, BIAS_KIND)
    return report


def bias_markdown(report: dict[str, Any]) -> str:
    probe, overall = report["probe"], report["similarity"]["overall"]
    lines = [
        f"### Language bias: {report['model'].get('name')}",
        "",
        f"{report['verses']} held-out NT verses in each of {len(report['languages'])} languages "
        f"({report['texts']} texts).",
        "",
        "| measure | value | language-agnostic would be |",
        "|---|---:|---:|",
        f"| language-ID probe accuracy ({probe['folds']}-fold, verses grouped) | {probe['accuracy']:.3f} ± "
        f"{probe['std']:.3f} | {probe['chance']:.3f} (chance) |",
        f"| cosine, unrelated verses, same language | {overall['same_language_unrelated']:.3f} | = cross-language |",
        f"| cosine, unrelated verses, different languages | {overall['cross_language_unrelated']:.3f} | |",
        f"| gap (same - cross) | {overall['gap']:.3f} | 0 |",
        f"| cosine, translations | {overall['translations']:.3f} | high |",
        f"| nearest unrelated neighbour in the same language | {overall['nearest_unrelated_same_language']:.3f} | "
        f"{overall['nearest_unrelated_same_language_chance']:.3f} |",
        "",
        "| language | same-lang unrelated | cross-lang unrelated | gap | translations |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, row in report["similarity"]["per_language"].items():
        lines.append(
            f"| {lang} | {row['same_language_unrelated']:.3f} | {row['cross_language_unrelated']:.3f} | "
            f"{row['gap']:.3f} | {row['translations']:.3f} |"
        )
    lines += ["", f"Picture: `{report['plot']}`"]
    return "\n".join(lines) + "\n"
