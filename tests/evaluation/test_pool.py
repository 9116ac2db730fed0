"""Mixed-language pools (babelir.evaluation.benchmarks.pool) and the deployed neutralization measured on
them: evaluate --scoring neutral ranks as babelir index + search do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.evaluation.benchmarks import load_benchmark, resolve_names
from babelir.evaluation.benchmarks.base import Benchmark, BenchmarkMeta
from babelir.evaluation.benchmarks.pool import pool_meta, pool_of


def _monolingual(lang: str, corpus: dict[str, str], queries: dict[str, str], qrels: dict) -> Benchmark:
    meta = BenchmarkMeta(name=f"toy-{lang}", family="beir", description="", languages=[lang])
    return Benchmark(meta, queries, corpus, qrels, query_lang=lang, doc_lang=lang)


def test_a_pool_of_per_language_benchmarks_finds_the_answer_in_every_language_that_has_it() -> None:
    en = _monolingual("en", {"cat": "a cat", "rain": "rain", "v1": "verse"}, {"v1": "verse"}, {"v1": {"cat": 1}})
    de = _monolingual("de", {"cat": "eine Katze", "v1": "Vers"}, {"v1": "Vers"}, {"v1": {"rain": 1, "cat": 1}})
    pooled = pool_of([en, de], pool_meta("toy-pool", ["en", "de"], "toy"))
    assert set(pooled.corpus) == {"en:cat", "en:rain", "en:v1", "de:cat", "de:v1"}
    assert pooled.qrels["en:v1"] == {"en:cat": 1, "de:cat": 1}  # the same id in German is the same item
    assert pooled.qrels["de:v1"] == {"en:rain": 1, "en:cat": 1, "de:cat": 1}  # rain only exists in English
    assert pooled.query_language("de:v1") == "de" and pooled.doc_language("en:cat") == "en"
    # the query verse is also a document: neither it nor its translation may answer it
    assert pooled.exclude_rule == "same-item" and pooled.exclude["en:v1"] == {"en:v1", "de:v1"}
    assert pooled.meta.languages == ["en", "de"] and pooled.meta.family_info.pooled


def test_a_pool_needs_one_known_language_per_benchmark() -> None:
    en = _monolingual("en", {"a": "x"}, {"q": "x"}, {"q": {"a": 1}})
    with pytest.raises(DataError, match="two benchmarks of language 'en'"):
        pool_of([en, en], pool_meta("p", ["en"], ""))
    unknown = Benchmark(en.meta, en.queries, en.corpus, en.qrels)
    with pytest.raises(DataError, match="one known language each"):
        pool_of([unknown], pool_meta("p", ["en"], ""))


def _folder(path: Path, docs: dict[str, str], queries: dict[str, str], qrels: dict[str, str]) -> Path:
    (path / "qrels").mkdir(parents=True)
    (path / "corpus.jsonl").write_text("".join(json.dumps({"_id": d, "text": t}) + "\n" for d, t in docs.items()))
    (path / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()))
    (path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in qrels.items()))
    return path


def test_a_users_beir_folders_pool_by_name(tmp_path: Path) -> None:
    en = _folder(tmp_path / "en", {"d1": "The cat sleeps.", "d2": "Rain falls."}, {"q1": "cat"}, {"q1": "d1"})
    fr = _folder(tmp_path / "fr", {"d1": "Le chat dort.", "d3": "Le pain."}, {"q1": "chat"}, {"q1": "d1"})
    spec = f"pool:en={en},fr={fr}"
    assert resolve_names(f"wiki-pool-dev,{spec}") == ["wiki-pool-dev", spec]
    bench = load_benchmark(spec)
    assert bench.qrels["fr:q1"] == {"en:d1": 1, "fr:d1": 1} and len(bench.corpus) == 4
    with pytest.raises(DataError, match="LANG=PATH"):
        load_benchmark(f"pool:{en}")
    with pytest.raises(DataError, match="at least two languages"):
        load_benchmark(f"pool:en={en}")


def test_the_wikipedia_pool_splits_articles_and_holds_only_untrained_text() -> None:
    from babelir.data.defaults import heldout_wiki_keys
    from babelir.data.sources import wiki

    dev, test = load_benchmark("wiki-pool-dev"), load_benchmark("wiki-pool-test")
    assert dev.corpus == test.corpus  # both splits search one collection
    item = lambda text_id: text_id.split(":", 1)[1]  # noqa: E731
    assert not {item(q) for q in dev.queries} & {item(q) for q in test.queries}
    held_out = {wiki.article_id(k) for k in heldout_wiki_keys()}
    assert all(item(d) in held_out for d in dev.corpus if d.startswith("en:"))  # never a training positive
    for bench in (dev, test):
        assert len(bench.queries) > 500 and all(len(rel) >= 2 for rel in bench.qrels.values())
        assert all(len({d.split(":")[0] for d in rel}) == len(rel) for rel in bench.qrels.values())
    assert {q.split(":")[0] for q in dev.queries} == {"en", "es", "fr"}


def test_evaluate_neutral_ranks_as_babelir_index_and_search_do(tmp_path: Path, tiny_dir: Path) -> None:
    """The claim `evaluate` makes about a deployed index: the same statistics, the same rankings."""
    from babelir.encoding.neutral import NeutralSettings
    from babelir.evaluation.retrieval.encoders import SentenceTransformerEncoder
    from babelir.evaluation.retrieval.neutral import CorpusNeutralRetriever
    from babelir.index import Index, build_index
    from tests.index.helpers import SENTENCES

    settings = NeutralSettings(min_documents=5, query_sample=3)
    corpus = {f"{lang}:{i}": text for lang, texts in SENTENCES.items() for i, text in enumerate(texts)}
    queries = {"de:q": "Die Katze schläft", "en:q": "markets fell on Monday", "fr:q": "le violon"}
    qrels = {q: {f"{lang}:0": 1 for lang in SENTENCES} for q in queries}
    bench = Benchmark(pool_meta("toy-pool", list(SENTENCES), "toy"), queries, corpus, qrels,
                      query_lang="prefix", doc_lang="prefix", exclude_rule="none")
    retriever = CorpusNeutralRetriever(SentenceTransformerEncoder.load(str(tiny_dir)), "neutral",
                                       cache_root=tmp_path / "cache", settings=settings)
    run, _ = retriever.search(bench, k=10, batch_size=8, show_progress=False)
    assert retriever.identification["toy-pool"] == {"right": 3, "wrong": 0, "unknown": 0}

    lines = [json.dumps({"_id": d, "text": t, "language": d.split(":")[0]}) for d, t in corpus.items()]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index(str(tiny_dir), tmp_path / "corpus.jsonl", tmp_path / "idx", neutralization=settings)
    index = Index.load(tmp_path / "idx")
    for qid, text in queries.items():
        [result] = index.query([text], k=10)
        assert result.language.neutralized
        expected = sorted(run[qid].items(), key=lambda t: -t[1])
        assert [h.id for h in result.hits][:5] == [d for d, _ in expected][:5]
        assert [h.score for h in result.hits] == pytest.approx([s for _, s in expected], abs=1e-4)
