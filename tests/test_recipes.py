"""The README's framework recipes keep babelir's prompts: LangChain's and LlamaIndex's sentence-transformers
wrappers, set as the README says, give babelir's own query and document vectors against a local tiny model
(and without those settings they silently would not); MTEB, on a local retrieval task built from a BEIR
folder (its registered tasks download their data), scores what ``babelir evaluate`` scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from babelir.backbones import resolve_backbone
from babelir.encoding import encode, load_model

TEXTS = ["Wo ist der Fluss?", "The river runs past the old mill."]


def test_langchain_embeddings_with_the_prompts_set_equal_babelirs() -> None:
    pytest.importorskip("langchain_huggingface")
    from langchain_huggingface import HuggingFaceEmbeddings

    path = str(resolve_backbone("tiny"))  # the README's "runs/mine/model"
    embeddings = HuggingFaceEmbeddings(
        model_name=path,
        query_encode_kwargs={"prompt_name": "query", "normalize_embeddings": True},
        encode_kwargs={"prompt_name": "document", "normalize_embeddings": True},
    )
    model = load_model(path)
    query = np.array(embeddings.embed_query(TEXTS[0]))
    documents = np.array(embeddings.embed_documents(TEXTS))
    np.testing.assert_allclose(query, encode(model, TEXTS[:1], role="query")[0], atol=1e-5)
    np.testing.assert_allclose(documents, encode(model, TEXTS, role="document"), atol=1e-5)
    bare = np.array(HuggingFaceEmbeddings(model_name=path).embed_query(TEXTS[0]))  # the wrapper's defaults
    assert not np.allclose(bare, query, atol=1e-3)  # no prompt: another vector, silently


def test_llamaindex_embeddings_with_the_instructions_set_equal_babelirs() -> None:
    pytest.importorskip("llama_index.embeddings.huggingface")
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    path = str(resolve_backbone("tiny"))
    embed_model = HuggingFaceEmbedding(model_name=path, query_instruction="query: ", text_instruction="passage: ",
                                       device="cpu")
    model = load_model(path)
    query = np.array(embed_model.get_query_embedding(TEXTS[0]))
    documents = np.array(embed_model.get_text_embedding_batch(TEXTS))
    np.testing.assert_allclose(query, encode(model, TEXTS[:1], role="query")[0], atol=1e-5)
    np.testing.assert_allclose(documents, encode(model, TEXTS, role="document"), atol=1e-5)
    bare = np.array(HuggingFaceEmbedding(model_name=path, device="cpu").get_query_embedding(TEXTS[0]))
    assert not np.allclose(bare, query, atol=1e-3)  # its empty default instruction overrides the model's prompt


def _beir_folder_task(folder: Path):
    """An MTEB retrieval task over a BEIR folder, loaded from disk (what a user does for a local benchmark)."""
    from datasets import Dataset
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
    from mteb.abstasks.task_metadata import TaskMetadata

    def rows(name: str) -> list[dict]:
        return [json.loads(line) for line in (folder / name).read_text(encoding="utf-8").splitlines()]

    class BeirFolderTask(AbsTaskRetrieval):
        metadata = TaskMetadata(
            name="BabelirToy", type="Retrieval", main_score="ndcg_at_10", description="a local BEIR folder",
            reference=None, dataset={"path": str(folder), "revision": "local"}, category="t2t",
            modalities=["text"], eval_splits=["test"], eval_langs=["eng-Latn", "deu-Latn"], date=None,
            domains=None, task_subtypes=None, license=None, annotations_creators=None, dialect=None,
            sample_creation=None, bibtex_citation=None,
        )

        def load_data(self, num_proc: int | None = None, **kwargs) -> None:
            corpus = [{"id": d["_id"], "title": d["title"], "text": d["text"]} for d in rows("corpus.jsonl")]
            queries = [{"id": q["_id"], "text": q["text"]} for q in rows("queries.jsonl")]
            qrels: dict[str, dict[str, int]] = {}
            for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
                qid, doc_id, score = line.split("\t")
                qrels.setdefault(qid, {})[doc_id] = int(score)
            split = RetrievalSplitData(corpus=Dataset.from_list(corpus), queries=Dataset.from_list(queries),
                                       relevant_docs=qrels, top_ranked=None)
            self.dataset = {"default": {"test": split}}
            self.data_loaded = True

    return BeirFolderTask()


def test_mteb_applies_the_prompts_and_scores_what_babelir_evaluate_scores(tmp_path: Path) -> None:
    mteb = pytest.importorskip("mteb")
    from sentence_transformers import SentenceTransformer

    from babelir.evaluation import evaluate
    from tests.evaluation.conftest import write_beir_by_hand

    folder = write_beir_by_hand(tmp_path / "toy")
    path = str(resolve_backbone("tiny"))
    model = SentenceTransformer(path, device="cpu")  # the README's recipe: prompts from the folder

    def mteb_ndcg() -> float:
        result = mteb.evaluate(model, tasks=[_beir_folder_task(folder)], cache=None, show_progress_bar=False)
        return result.task_results[0].scores["test"][0]["ndcg_at_10"]

    ours = evaluate(path, [str(folder)], show_progress=False, use_cache=False).benchmarks[str(folder)]
    with_prompts = mteb_ndcg()
    assert with_prompts == pytest.approx(ours.metrics["nDCG@10"], abs=1e-5)  # MTEB rounds to 5 decimals
    model.prompts = {}
    assert mteb_ndcg() != pytest.approx(with_prompts, abs=1e-5)  # without them: other vectors, another score
