"""Parallel pairs: TSV with named, language or no header, aligned text files, and their errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.data.readers import ParallelPair, read_parallel, read_parallel_text, read_parallel_tsv
from tests.data.readers.helpers import raises_at, write


def test_parallel_tsv_named_columns_mixed_languages(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.tsv",
        "id\tsource\ttarget\tsource_lang\ttarget_lang\n1\tHello\tHallo\ten\tDE\n2\tYes\tOui\ten\tfr\n",
    )
    assert list(read_parallel(path)) == [
        ParallelPair("Hello", "Hallo", "en", "de"),
        ParallelPair("Yes", "Oui", "en", "fr"),
    ]


def test_parallel_tsv_alias_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "src_lang\ttgt_lang\tsrc\ttgt\nen\tru\tYes\tДа\n")
    assert list(read_parallel(path)) == [ParallelPair("Yes", "Да", "en", "ru")]


def test_parallel_tsv_named_columns_with_caller_languages(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "target\tsource\nHallo\tHello\n")
    assert list(read_parallel_tsv(path, "en", "de")) == [ParallelPair("Hello", "Hallo", "en", "de")]
    with raises_at(path, 1, "no 'source_lang' column"):
        list(read_parallel_tsv(path))


def test_parallel_tsv_language_header_and_no_header(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "en\tzh_hans\nHello\t你好\n")
    assert list(read_parallel(path)) == [ParallelPair("Hello", "你好", "en", "zh-Hans")]
    plain = write(tmp_path / "plain.tsv", "Hello\tHola\n")
    assert list(read_parallel(plain, source_lang="en", target_lang="es")) == [
        ParallelPair("Hello", "Hola", "en", "es")
    ]
    with raises_at(plain, 1, "no header naming the languages"):
        list(read_parallel(plain))
    # a first line that repeats the caller's languages is a header
    assert len(list(read_parallel(path, source_lang="en", target_lang="zh-Hans"))) == 1


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("en\tde\nHello\n", 2, "expected 2 tab-separated columns"),
        ("en\tde\nHello\t \n", 2, "empty text"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\ten\n", 2, "missing column 'target_lang'"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\ten\tgerman\n", 2, "unknown language code 'german'"),
        ("source\ttarget\tsource_lang\ttarget_lang\na\tb\teng\tde\n", 2, "unknown language code 'eng'"),
    ],
)
def test_parallel_tsv_errors(tmp_path: Path, content: str, line: int, problem: str) -> None:
    path = write(tmp_path / "p.tsv", content)
    with raises_at(path, line, problem):
        list(read_parallel(path))


def test_unknown_caller_language(tmp_path: Path) -> None:
    path = write(tmp_path / "p.tsv", "a\tb\n")
    with raises_at(path, None, "unknown language code 'xx' given as target_lang"):
        read_parallel(path, source_lang="en", target_lang="xx")


def test_aligned_text_files(tmp_path: Path) -> None:
    src = write(tmp_path / "corpus.en", "Hello\nGood morning\n")
    tgt = write(tmp_path / "corpus.de", "Hallo\nGuten Morgen\n")
    assert list(read_parallel_text(src, tgt, "en", "de")) == [
        ParallelPair("Hello", "Hallo", "en", "de"),
        ParallelPair("Good morning", "Guten Morgen", "en", "de"),
    ]


def test_aligned_files_of_different_lengths_name_both_files_and_the_line(tmp_path: Path) -> None:
    src = write(tmp_path / "a.en", "one\ntwo\nthree\n")
    tgt = write(tmp_path / "a.de", "eins\nzwei\n")
    with pytest.raises(DataError) as err:
        list(read_parallel(src, tgt, source_lang="en", target_lang="de"))
    message = str(err.value)
    assert message.startswith(f"{src}:3: ") and str(tgt) in message and "ends after line 2" in message
    with pytest.raises(DataError, match=rf"^{re.escape(str(src))}:3: .*{re.escape(str(tgt))}"):
        list(read_parallel(tgt, src, source_lang="de", target_lang="en"))


def test_aligned_empty_line(tmp_path: Path) -> None:
    src = write(tmp_path / "a.en", "one\n\nthree\n")
    tgt = write(tmp_path / "a.de", "eins\nzwei\ndrei\n")
    with raises_at(src, 2, "empty text"):
        list(read_parallel_text(src, tgt, "en", "de"))
    assert len(list(read_parallel_text(src, tgt, "en", "de", skip_empty=True))) == 2
