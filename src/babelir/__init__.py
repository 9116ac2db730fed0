"""babelir: language-agnostic multilingual retrieval with contrastive co-training.

Implements Hu et al., "Language Agnostic Multilingual Information Retrieval with Contrastive Learning"
(Findings of ACL 2023, arXiv 2210.06633) as a toolkit: backbones, data readers, losses, a trainer,
zero-shot evaluation, faiss indexing and an HTTP search service.
"""

__version__ = "0.1.0"
