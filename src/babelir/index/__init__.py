"""Index, search: faiss indexes over encoded corpora, built in resumable shards.

``babelir index MODEL CORPUS OUT`` builds (:func:`build_index`), ``Index.load(OUT).search(texts, k)``
searches, ``babelir search`` writes TREC runs. See :mod:`babelir.index.layout` for the folder layout.
"""

from babelir.index.ann import AnnSettings
from babelir.index.build import BuildInterrupted, build_index
from babelir.index.search import Hit, Index

__all__ = ["AnnSettings", "BuildInterrupted", "Hit", "Index", "build_index"]
