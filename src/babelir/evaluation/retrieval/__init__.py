"""Retrieval back-ends of evaluation: encoders (the :mod:`babelir.encoding.protocol` Encoder), dense,
late-interaction and BM25 retrievers, the embeddings cache, exact search, language neutralization of
scores, and loading a retriever by name."""
