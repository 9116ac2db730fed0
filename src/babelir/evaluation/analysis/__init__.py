"""Analyses of a model beyond retrieval scores: the language-bias report (``babelir bias``)."""
