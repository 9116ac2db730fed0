import numpy as np
import pytest

from babelir.training.batching import BatchSchedule


def test_batches_are_a_pure_function_of_seed_and_step():
    lengths = list(np.random.default_rng(0).integers(5, 100, size=103))
    a = BatchSchedule(lengths, 8, seed=1, stream=0)
    b = BatchSchedule(lengths, 8, seed=1, stream=0)
    steps = [0, 5, 12, 13, 40, 7]
    assert all((a.batch(s) == b.batch(s)).all() for s in steps)
    assert not (BatchSchedule(lengths, 8, seed=2, stream=0).batch(0) == a.batch(0)).all()


def test_each_epoch_covers_distinct_items_and_reshuffles():
    lengths = list(range(64))
    schedule = BatchSchedule(lengths, 8, seed=0, stream=1)
    epoch0 = np.concatenate([schedule.batch(s) for s in range(8)])
    epoch1 = np.concatenate([schedule.batch(s) for s in range(8, 16)])
    assert sorted(epoch0) == list(range(64)) and sorted(epoch1) == list(range(64))
    assert not (epoch0 == epoch1).all()


def test_bucketing_reduces_padding():
    lengths = list(np.random.default_rng(3).integers(5, 200, size=512))

    def padding(schedule):
        return sum(
            max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b)
            for b in (schedule.batch(s) for s in range(schedule.batches_per_epoch))
        )

    plain = BatchSchedule(lengths, 16, seed=0, stream=0, bucketing=False)
    bucketed = BatchSchedule(lengths, 16, seed=0, stream=0, bucketing=True)
    assert padding(bucketed) < 0.5 * padding(plain)


def test_too_small_stream_is_an_error():
    with pytest.raises(ValueError, match="fewer than one batch"):
        BatchSchedule([1, 2], 4, seed=0, stream=0)
