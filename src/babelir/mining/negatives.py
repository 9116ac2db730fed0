"""Hard negatives for retrieval training, mined with babelir's own index.

For each training query, :func:`mine_hard_negatives` retrieves the top ``depth`` passages of a corpus
(a resumable ``babelir index`` folder, so a large corpus is encoded once, in shards) and keeps as
negatives those that are not the positive and score below ``margin`` times the positive's own score:
candidates that the model finds about as relevant as the labelled positive are likely unlabelled
positives (false negatives), the main hazard of mined negatives. This is the "TopK-PercPos" filter of
NV-Retriever (Moreira et al. 2024, margin 0.95) and what sentence-transformers' ``mine_hard_negatives``
calls ``relative_margin``. The output is the JSONL that ``babelir train --num-negatives N`` reads.

Without a retrieval file, the rows are the embedded default's (what ``babelir train`` trains on without
``--retrieval``); without a corpus, the candidates are the distinct positives of those rows (as in
sentence-transformers' ``mine_hard_negatives``), written once next to the output as ``OUTPUT.corpus.jsonl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_NEGATIVES = 4
DEFAULT_DEPTH = 30
DEFAULT_MARGIN = 0.95


@dataclass
class MiningStats:
    queries: int
    negatives: int  # written in all
    short: int  # rows with fewer than the negatives asked for
    dropped_as_positive: int  # candidates that were the positive itself
    dropped_by_margin: int  # candidates scoring at least margin x the positive's score
    filled: int  # random passages that topped up rows with too few hard negatives
    index: str

    def summary(self, wanted: int) -> str:
        text = (f"{self.queries:,} queries, {self.negatives:,} negatives written ({wanted} asked a query, "
                f"{self.filled:,} of them random passages topping up rows with too few hard ones); dropped "
                f"{self.dropped_as_positive:,} candidates that were the positive and {self.dropped_by_margin:,} at "
                f"or above the margin")
        if self.short:
            text += (f"; {self.short:,} rows have fewer than {wanted} (train --num-negatives needs that many in "
                     f"every row: raise --depth, lower --margin or leave --fill-random on)")
        return text


def _positive_rows(examples: list) -> dict[str, int]:
    """Each distinct positive (stripped) and its row in :func:`positives_corpus`, in first-seen order."""
    rows: dict[str, int] = {}
    for example in examples:
        rows.setdefault(example.positive.strip(), len(rows))
    return rows


MINED, MINED_CORPUS = "mined examples", "mined corpus"  # babelir.utils.ownership's kinds of mine's files


def positives_corpus(examples: list, path: Path) -> Path:
    """Write the distinct positives of ``examples`` as a corpus JSONL (``id``, ``text``), in first-seen order.
    An identical file already there is left untouched: the index built from it recognises its corpus by
    size and modification time, so a rerun reuses the index instead of refusing "another corpus". A
    different file is replaced only when an earlier ``babelir mine`` wrote it (its folder's ledger says so,
    :mod:`babelir.utils.ownership`): a user's own file of that name is refused, never overwritten."""
    from babelir.utils.atomic import atomic_write_text
    from babelir.utils.ownership import check_file, record_file

    content = "".join(json.dumps({"id": f"p{number}", "text": text}, ensure_ascii=False) + "\n"
                      for text, number in _positive_rows(examples).items())
    if path.is_file():
        if path.read_text(encoding="utf-8", errors="replace") == content:
            return path
        check_file(path, MINED_CORPUS, "--output (or pass the file as --corpus to mine it)")
    atomic_write_text(path, content)
    record_file(path, MINED_CORPUS)
    return path


def mine_hard_negatives(
    model: str,
    retrieval: str | os.PathLike | None,
    corpus: str | os.PathLike | None,
    output: str | os.PathLike,
    *,
    num_negatives: int = DEFAULT_NEGATIVES,
    depth: int = DEFAULT_DEPTH,
    margin: float = DEFAULT_MARGIN,
    index_dir: str | os.PathLike | None = None,
    batch_size: int = 32,
    device: str | None = None,
    progress: Callable[[str], None] | None = None,
    fill: bool = True,
    seed: int = 0,
    overwrite_index: bool = False,
) -> MiningStats:
    """Write ``output`` (JSONL: ``query``, ``positive``, ``negatives``) for every example of ``retrieval``
    (``None``: the embedded default's retrieval rows), mining ``corpus`` (``None``: their positives). With
    ``fill``, rows left with fewer than ``num_negatives`` hard negatives are topped up with random passages
    (seeded by ``seed``), so that every row trains with ``--num-negatives num_negatives``. ``overwrite_index``
    builds ``index_dir`` again (an index babelir wrote) where it holds another corpus."""
    from babelir.data.errors import DataError
    from babelir.data.readers import read_retrieval
    from babelir.index import Index, build_index
    from babelir.utils.atomic import atomic_open
    from babelir.utils.errors import check_count
    from babelir.utils.ownership import check_file, record_file, same_file

    if num_negatives < 1 or depth < num_negatives or not 0 < margin <= 1:
        raise DataError(None, None, "mining needs num_negatives >= 1, depth >= num_negatives and 0 < margin <= 1")
    check_count("batch size", batch_size, DataError)
    for name, source in (("--retrieval", retrieval), ("--corpus", corpus)):
        if source is not None and same_file(output, source):
            raise DataError(output, None, f"is the {name} file this command reads; choose another --output")
    check_file(output, MINED, "--output")  # before minutes of encoding, not after
    say = progress or (lambda message: None)
    if retrieval is None:
        from babelir.data.defaults import build_default_data

        data = build_default_data()
        say(f"the embedded default's retrieval rows: {data.retrieval_path}")
        examples = list(data.retrieval_examples())
    else:
        examples = list(read_retrieval(retrieval))
    if not examples:
        raise DataError(retrieval, None, "no retrieval examples to mine negatives for")
    own_corpus = corpus is None
    if own_corpus:
        corpus = positives_corpus(examples, Path(f"{output}.corpus.jsonl"))
        say(f"the corpus: the distinct positives, written to {corpus}")
    index_dir = Path(index_dir) if index_dir else Path(f"{output}.index")
    say(f"indexing {corpus} into {index_dir} (resumable; reused when it already holds this corpus and model)")
    build_index(model, corpus, index_dir, batch_size=batch_size, device=device, progress=say,
                overwrite=overwrite_index)
    index = Index.load(index_dir, device=device)
    say(f"encoding {len(examples):,} queries")
    queries = index.encoder.encode([e.query for e in examples], "query", batch_size)
    positives = _indexed_positives(index, examples) if own_corpus else None
    if positives is None:
        distinct = list(dict.fromkeys(e.positive for e in examples))  # a positive shared by queries: encoded once
        say(f"encoding their {len(distinct):,} distinct positives")
        row_of = {text: row for row, text in enumerate(distinct)}
        positives = index.encoder.encode(distinct, "document", batch_size)[
            [row_of[e.positive] for e in examples]]
    positive_scores = np.sum(queries * positives, axis=1)  # unit vectors: cosine, as the index scores
    scores, rows = index.search_vectors(queries, depth)
    stats = MiningStats(len(examples), 0, 0, 0, 0, 0, str(index_dir))
    negatives: list[list[str]] = []
    for example, hits, positive_score in zip(examples, index.hits(scores, rows), positive_scores, strict=True):
        chosen: list[str] = []
        for hit in hits:
            if hit.text.strip() == example.positive.strip():
                stats.dropped_as_positive += 1
            elif hit.score >= margin * positive_score:
                stats.dropped_by_margin += 1
            elif hit.text not in chosen:
                chosen.append(hit.text)
            if len(chosen) == num_negatives:
                break
        negatives.append(chosen)
    if fill:
        stats.filled = _fill_random(index, examples, negatives, num_negatives, seed)
    with atomic_open(output) as handle:
        for example, chosen in zip(examples, negatives, strict=True):
            stats.negatives += len(chosen)
            stats.short += len(chosen) < num_negatives
            handle.write(json.dumps({"query": example.query, "positive": example.positive, "negatives": chosen},
                                    ensure_ascii=False) + "\n")
    record_file(output, MINED)
    return stats


def _fill_random(index, examples: list, negatives: list[list[str]], wanted: int, seed: int) -> int:
    """Top up the rows that kept fewer than ``wanted`` hard negatives with passages drawn at random from the
    corpus (never the row's positive nor a repeat): a random passage is rarely relevant, so it is a safe, if
    easy, negative, and every row then trains with ``--num-negatives wanted``. Returns how many were added."""
    short = [i for i, chosen in enumerate(negatives) if len(chosen) < wanted]
    if not short or len(index) < 2:
        return 0
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(index), size=(len(short), 3 * wanted + 2))  # spares for positives and repeats
    added = 0
    for i, hits in zip(short, index.hits(np.zeros(draws.shape, dtype=np.float32), draws), strict=True):
        for hit in hits:
            if len(negatives[i]) == wanted:
                break
            if hit.text.strip() != examples[i].positive.strip() and hit.text not in negatives[i]:
                negatives[i].append(hit.text)
                added += 1
    return added


def _indexed_positives(index, examples: list) -> np.ndarray | None:
    """The positives' vectors read back from an index built over :func:`positives_corpus` (its rows are the
    distinct positives in first-seen order), so they are not encoded twice; ``None`` where the index type
    cannot give its vectors back exactly (IVF-PQ stores codes)."""
    try:
        vectors = index.faiss.reconstruct_n(0, index.faiss.ntotal)
    except RuntimeError:
        return None
    row_of = _positive_rows(examples)
    return np.asarray(vectors, dtype=np.float32)[[row_of[e.positive.strip()] for e in examples]]
