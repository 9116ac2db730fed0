"""babelir mine on the tiny backbone: negatives are never the positive, the margin filters, the output
trains with --num-negatives, and a short corpus is reported rather than padded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.cli import main
from babelir.data.readers import read_retrieval as read_examples
from babelir.mining import mine_hard_negatives
from babelir.utils.errors import OutputError
from tests.training.test_trainer import write_data


def jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def training_file(tmp_path: Path) -> Path:
    """The tiny training data's retrieval file (40 rows)."""
    return Path(write_data(tmp_path / "data")["retrieval"][0])


def corpus_of(retrieval: Path, folder: Path) -> Path:
    rows = jsonl_rows(retrieval)
    path = folder / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            handle.write(json.dumps({"id": f"p{i}", "text": row["positive"]}) + "\n")
            handle.write(json.dumps({"id": f"x{i}", "text": f"An unrelated sentence about {row['query']}."}) + "\n")
    return path


def test_mined_negatives_train_and_are_never_the_positive(tmp_path: Path, capsys) -> None:
    retrieval = training_file(tmp_path)
    corpus = corpus_of(retrieval, tmp_path)
    out = tmp_path / "mined.jsonl"
    stats = mine_hard_negatives("tiny", retrieval, corpus, out, num_negatives=2, depth=80, margin=1.0, device="cpu")
    rows = jsonl_rows(out)
    assert len(rows) == stats.queries == 40 and stats.dropped_as_positive > 0
    assert all(row["positive"] not in row["negatives"] and len(row["negatives"]) <= 2 for row in rows)
    assert stats.negatives == sum(len(row["negatives"]) for row in rows)
    strict = mine_hard_negatives("tiny", retrieval, corpus, tmp_path / "strict.jsonl", num_negatives=2, depth=80,
                                 margin=0.5, index_dir=stats.index, device="cpu")  # the same index, reused
    assert strict.negatives <= stats.negatives and strict.dropped_by_margin >= stats.dropped_by_margin
    assert stats.short == 0  # depth 80 = the whole corpus: every query has passages below its positive
    code = main(["train", "--backbone", "tiny", "--steps", "2", "--batch-size", "4", "--aux-batch-size", "4",
                 "--retrieval", str(out), "--num-negatives", "2", "--no-progress", "--output", str(tmp_path / "run")])
    assert code == 0 and (tmp_path / "run" / "model").is_dir()


def test_the_command_reports_what_it_wrote(tmp_path: Path, capsys) -> None:
    retrieval = training_file(tmp_path)
    corpus = corpus_of(retrieval, tmp_path)
    code = main(["mine", "tiny", "--retrieval", str(retrieval), "--corpus", str(corpus),
                 "--output", str(tmp_path / "m.jsonl"), "--num-negatives", "1", "--device", "cpu"])
    assert code == 0
    assert "40 queries" in capsys.readouterr().out


def test_without_a_corpus_the_positives_are_mined(tmp_path: Path) -> None:
    retrieval = training_file(tmp_path)
    out = tmp_path / "mined.jsonl"
    stats = mine_hard_negatives("tiny", retrieval, None, out, num_negatives=2, depth=40, margin=1.0, device="cpu")
    corpus = [row["text"] for row in jsonl_rows(Path(f"{out}.corpus.jsonl"))]
    positives = [row["positive"] for row in jsonl_rows(retrieval)]
    assert corpus == list(dict.fromkeys(p.strip() for p in positives))  # distinct, first-seen order
    rows = jsonl_rows(out)
    assert stats.dropped_as_positive == len(rows)  # each query's own positive is among its candidates
    assert all(set(row["negatives"]) <= set(corpus) - {row["positive"]} for row in rows)
    rerun = mine_hard_negatives("tiny", retrieval, None, out, num_negatives=2, depth=40, margin=1.0, device="cpu")
    assert rerun.negatives == stats.negatives  # the unchanged corpus file is kept, so its index is reused
    # the positives' vectors were read back from the index: the same as encoding them again
    again = tmp_path / "again.jsonl"
    mine_hard_negatives("tiny", retrieval, f"{out}.corpus.jsonl", again, num_negatives=2, depth=40, margin=1.0,
                        device="cpu")
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_a_users_own_file_at_the_positives_corpus_path_is_refused_not_overwritten(tmp_path: Path, capsys) -> None:
    from babelir.mining import positives_corpus

    retrieval = training_file(tmp_path)
    out = tmp_path / "mined.jsonl"
    mine_own = Path(f"{out}.corpus.jsonl")
    lookalike = json.dumps({"id": "p0", "text": "a user's passage"}) + "\n"  # the layout mine writes, by hand
    mine_own.write_text(lookalike, encoding="utf-8")
    rows = list(read_examples(retrieval))
    with pytest.raises(OutputError, match="babelir did not write it"):
        positives_corpus(rows, mine_own)
    assert mine_own.read_text(encoding="utf-8") == lookalike
    mine_own.unlink()
    positives_corpus(rows[:2], mine_own)
    positives_corpus(rows, mine_own)  # an earlier babelir mine's file (its folder's ledger): replaced
    assert len(jsonl_rows(mine_own)) == len({row.positive.strip() for row in rows})
    users = "doc1\tmy own passage\n"
    mine_own.write_text(users, encoding="utf-8")
    code = main(["mine", "tiny", "--retrieval", str(retrieval), "--output", str(out), "--device", "cpu"])
    assert code != 0 and "did not write it" in capsys.readouterr().err
    assert mine_own.read_text(encoding="utf-8") == users and not out.exists()


def test_after_the_training_file_changed_overwrite_rebuilds_the_index(tmp_path: Path, capsys) -> None:
    retrieval = training_file(tmp_path)
    out = tmp_path / "mined.jsonl"
    command = ["mine", "tiny", "--retrieval", str(retrieval), "--output", str(out), "--num-negatives", "1",
               "--device", "cpu"]
    assert main(command) == 0
    lines = retrieval.read_text(encoding="utf-8").splitlines(keepends=True)
    retrieval.write_text("".join(lines[:30]), encoding="utf-8")  # fewer rows: fewer positives, another corpus
    capsys.readouterr()
    assert main(command) != 0 and "pass --overwrite" in capsys.readouterr().err
    assert main([*command, "--overwrite"]) == 0 and len(jsonl_rows(out)) == 30


def test_without_a_retrieval_file_the_embedded_default_is_mined(tmp_path: Path, monkeypatch, capsys) -> None:
    from babelir.data import defaults
    from babelir.data.readers import read_retrieval

    retrieval = training_file(tmp_path)

    class Built:  # what build_default_data returns, over the tiny rows
        retrieval_path = retrieval

        @staticmethod
        def retrieval_examples():
            return read_retrieval(retrieval)

    monkeypatch.setattr(defaults, "build_default_data", lambda: Built)
    code = main(["mine", "tiny", "--output", str(tmp_path / "m.jsonl"), "--num-negatives", "1", "--device", "cpu"])
    assert code == 0 and "40 queries" in capsys.readouterr().out
    assert (tmp_path / "m.jsonl.corpus.jsonl").is_file()


def test_rows_the_margin_empties_are_topped_up_with_random_passages_unless_told_not_to(tmp_path: Path) -> None:
    retrieval = training_file(tmp_path)
    corpus = corpus_of(retrieval, tmp_path)
    out = tmp_path / "filled.jsonl"
    stats = mine_hard_negatives("tiny", retrieval, corpus, out, num_negatives=2, depth=5, margin=0.01, device="cpu")
    rows = jsonl_rows(out)
    assert stats.short == 0 and stats.filled == 2 * len(rows) == stats.negatives  # no hard one survived 0.01
    assert all(len(set(r["negatives"])) == 2 and r["positive"] not in r["negatives"] for r in rows)
    again = mine_hard_negatives("tiny", retrieval, corpus, tmp_path / "again.jsonl", num_negatives=2, depth=5,
                                margin=0.01, index_dir=stats.index, device="cpu")
    assert (tmp_path / "again.jsonl").read_text() == out.read_text() and again.filled == stats.filled  # seeded
    bare = mine_hard_negatives("tiny", retrieval, corpus, tmp_path / "bare.jsonl", num_negatives=2, depth=5,
                               margin=0.01, index_dir=stats.index, device="cpu", fill=False)
    assert bare.short == len(rows) and bare.negatives == 0 and "rows have fewer than 2" in bare.summary(2)
