"""What each training step trains on: the texts of every loss column at step ``n``, prompts applied.

A pure function of the step (the batches come from seeded :class:`BatchSchedule`\\ s, one per stream),
so ``--resume`` needs only the step number, every rank computes the same global batch before taking its
slice, and a benchmark can replay the exact texts of a run (``benchmarks/train_speed.py``).
"""

from __future__ import annotations

import zlib

from babelir.data.readers import ParallelPair, Sentence
from babelir.training.batching import BatchSchedule
from babelir.training.config import TrainConfig
from babelir.training.data import TrainingData


def nonparallel_pool(config: TrainConfig, data: TrainingData) -> list[Sentence]:
    """The sentences the language loss draws from."""
    if config.language_variant == "rank":
        # the rank reading compares each anchor with unrelated sentences of its own language
        source_languages = {p.source_lang for p in data.parallel}
        return [s for s in data.nonparallel if s.language in source_languages]
    return data.nonparallel


class StepColumns:
    """The columns of every step, in :class:`~babelir.losses.CoTrainingLoss` order: queries, positives,
    ``num_negatives`` negatives, then (if the loss uses them) sources, translations, non-parallel sentences.

    ``prompts`` maps ``query``, ``document`` and ``none`` to the prefix each role's texts get.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        prompts: dict[str, str],
        *,
        uses_parallel: bool,
        uses_nonparallel: bool,
    ) -> None:
        self.config, self.data, self.prompts = config, data, prompts
        self.nonparallel = nonparallel_pool(config, data)

        def schedule(lengths: list[int], batch: int, stream: int) -> BatchSchedule:
            return BatchSchedule(lengths, batch, config.seed, stream, config.length_bucketing, config.bucket_window)

        retrieval_lengths = [len(e.query) + len(e.positive) for e in data.retrieval]
        self.schedules = {"retrieval": schedule(retrieval_lengths, config.batch_size, 0)}
        if uses_parallel:
            self.schedules["parallel"] = schedule(
                [len(p.source) + len(p.target) for p in data.parallel], config.aux_batch_size, 1
            )
        if uses_nonparallel:
            self.schedules["nonparallel"] = schedule([len(s.text) for s in self.nonparallel], config.aux_batch_size, 2)

    def aux_role(self, step: int) -> str:
        """Whose prompt the auxiliary sentences take at ``step`` (one per step, so that the language loss
        never compares two prompts)."""
        role = self.config.aux_prompt
        if role == "alternate":
            return "query" if step % 2 == 0 else "document"
        return role

    @property
    def retrieval_columns(self) -> int:
        """How many of the leading columns are retrieval's: queries, positives and the negatives."""
        return 2 + self.config.num_negatives

    def example_count(self, columns: list[list[str]]) -> int:
        """The examples a step trained on (the speed the log reports): its queries and every auxiliary
        sentence; a query's positive and negatives are part of its example."""
        queries = columns[0]
        auxiliary = columns[self.retrieval_columns :]
        return len(queries) + sum(len(column) for column in auxiliary)

    def _auxiliary_rows(self, step: int) -> tuple[list[ParallelPair], list[Sentence]]:
        """The parallel pairs and non-parallel sentences of ``step`` (empty where the loss uses none)."""
        pairs = [self.data.parallel[i] for i in self.schedules["parallel"].batch(step)] if "parallel" in self.schedules else []
        sentences = ([self.nonparallel[i] for i in self.schedules["nonparallel"].batch(step)]
                     if "nonparallel" in self.schedules else [])
        return pairs, sentences

    def languages(self, step: int) -> list[list[int]]:
        """One language id per text of each auxiliary column at ``step`` (sources, translations,
        non-parallel sentences), for the erasure loss. An id is a checksum of the language code, so every
        rank gives a language the same id without a shared vocabulary."""
        pairs, sentences = self._auxiliary_rows(step)
        columns: list[list[int]] = []
        if "parallel" in self.schedules:
            columns += [[language_id(p.source_lang) for p in pairs], [language_id(p.target_lang) for p in pairs]]
        if "nonparallel" in self.schedules:
            columns.append([language_id(s.language) for s in sentences])
        return columns

    def __call__(self, step: int) -> list[list[str]]:
        """The texts of every column at ``step``."""
        q, d = self.prompts["query"], self.prompts["document"]
        a = self.prompts[self.aux_role(step)]
        examples = [self.data.retrieval[i] for i in self.schedules["retrieval"].batch(step)]
        cols = [[q + e.query for e in examples], [d + e.positive for e in examples]]
        for k in range(self.config.num_negatives):
            cols.append([d + e.negatives[k] for e in examples])
        pairs, sentences = self._auxiliary_rows(step)
        if "parallel" in self.schedules:
            cols += [[a + p.source for p in pairs], [a + p.target for p in pairs]]
        if "nonparallel" in self.schedules:
            cols.append([a + s.text for s in sentences])
        return cols


def language_id(code: str) -> int:
    """A stable integer for a language code (CRC-32), the same on every rank and in every run."""
    return zlib.crc32(code.encode("utf-8"))
