"""The README's framework recipes keep babelir's prompts: LangChain's sentence-transformers wrapper, run as
written against a local tiny model, gives babelir's own query and document vectors (and without the
prompt settings it silently would not)."""

from __future__ import annotations

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
