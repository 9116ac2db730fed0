"""What evaluation, index and serve score alike: BM25 (:mod:`.lexical`) and lexical + dense fusion
(:mod:`.fusion`). Below all three, so ``babelir evaluate --scoring hybrid:...`` measures exactly what
``babelir search`` and ``babelir serve`` run."""
