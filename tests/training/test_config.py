import argparse
from pathlib import Path

import pytest

from babelir.data.errors import DataError
from babelir.training.config import TrainConfig
from babelir.training.config_sources import add_config_arguments, build_config, load_config_file


def parse(argv):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return parser.parse_args(argv)


def test_flags_override_file_which_overrides_defaults(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 10\nsemantic_weight: 0.25\nparallel_languages: [de]\n")
    config = build_config(str(cfg), parse(["--steps", "7", "--no-freeze-word-embeddings"]))
    assert config.steps == 7 and config.semantic_weight == 0.25 and config.parallel_languages == ["de"]
    assert config.freeze_word_embeddings is False
    assert config.language_weight == TrainConfig().language_weight


def test_unknown_yaml_key_names_file_and_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 10\n\nsemantik_weight: 0.5\n")
    with pytest.raises(DataError, match=r"c\.yaml:3: unknown config key 'semantik_weight'"):
        load_config_file(cfg)


def test_unknown_toml_key_names_file_and_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("steps = 10\nbogus = 1\n")
    with pytest.raises(DataError, match=r"c\.toml:2: unknown config key 'bogus'"):
        load_config_file(cfg)


def test_wrong_type_and_bad_values_are_reported(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: many\n")
    with pytest.raises(DataError, match=r"c\.yaml:1: steps: expected an integer"):
        load_config_file(cfg)
    cfg.write_text("language_variant: sideways\n")
    with pytest.raises(DataError, match="language_variant"):
        build_config(str(cfg))


def test_invalid_yaml_reports_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 1\nbatch_size: [1,\n")
    with pytest.raises(DataError, match=r"c\.yaml:\d+: invalid YAML"):
        load_config_file(cfg)


def test_integer_values_of_float_fields_become_floats_so_equal_settings_hash_equal() -> None:
    from babelir.utils.cache import content_hash

    from_yaml = TrainConfig(language_weight=30, semantic_weight=0).validate()
    assert from_yaml.language_weight == 30.0 and isinstance(from_yaml.language_weight, float)
    assert isinstance(from_yaml.steps, int)
    explicit = TrainConfig(language_weight=30.0, semantic_weight=0.0).validate()
    assert content_hash(from_yaml.to_dict()) == content_hash(explicit.to_dict())


def test_identity_leaves_out_later_fields_at_their_default_so_older_runs_are_still_found() -> None:
    from babelir.training.config import LATER_FIELDS, run_identity

    config = TrainConfig().validate()
    saved_before_the_field_existed = {k: v for k, v in config.to_dict().items() if k not in LATER_FIELDS}
    assert run_identity(saved_before_the_field_existed) == config.identity()
    assert run_identity(config.to_dict()) == config.identity()
    changed = TrainConfig(aux_temperature=0.02).validate()
    assert changed.identity()["aux_temperature"] == 0.02
    assert changed.identity() != config.identity()
    assert changed.effective_aux_temperature == 0.02 and config.effective_aux_temperature == config.temperature


def test_aux_prompt_must_be_known() -> None:
    with pytest.raises(DataError, match="aux_prompt: must be one of query, document, alternate, none"):
        TrainConfig(aux_prompt="passage").validate()
    with pytest.raises(DataError, match="aux_temperature: must not be negative"):
        TrainConfig(aux_temperature=-1.0).validate()


def test_configs_default_yaml_writes_out_the_dataclass_defaults() -> None:
    from pathlib import Path

    from babelir.training.config import FIELDS
    from babelir.training.config_sources import build_config

    path = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
    assert build_config(str(path)) == TrainConfig().validate()
    # every field written out, in the dataclass's order, each with exactly its default (and its type)
    written = load_config_file(path)
    assert list(written) == list(FIELDS)
    defaults = TrainConfig().to_dict()
    assert {k: (v, type(v)) for k, v in written.items()} == {k: (v, type(v)) for k, v in defaults.items()}


def test_retrieval_sources_are_checked() -> None:
    assert TrainConfig(retrieval_sources=["bible-xref"]).validate().retrieval_sources == ["bible-xref"]
    with pytest.raises(DataError, match="retrieval_sources: unknown wiki; known: wiki-description"):
        TrainConfig(retrieval_sources=["wiki"]).validate()
    with pytest.raises(DataError, match="retrieval_sources: selects from the embedded default"):
        TrainConfig(retrieval_sources=["bible-xref"], retrieval=["mine.jsonl"]).validate()


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (float, "2e-5", 2e-5), (float, " 3 ", 3.0), (float, 3, 3.0), (int, "12", 12), (int, "1_000", 1000),
        (bool, "off", False), (bool, "Yes", True), (bool, "1", True), (str, "de", "de"),
        (list[str], "a.jsonl", ["a.jsonl"]), (list[str], ["a", 2024], ["a", "2024"]),
        (list[int], ["1", 2], [1, 2]), (Path, "runs/x", Path("runs/x")),
        (int | None, "none", None), (int | None, None, None), (int | None, "7", 7), (Path | None, "", None),
    ],
)
def test_strings_are_read_as_the_declared_type_like_the_flag_parser(kind, value, expected) -> None:
    from babelir.training.coerce import coerce

    got = coerce(kind, "key", value, ("c.yaml", 4))
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        (float, "fast", "key: expected a number, got 'fast'"), (int, "2.5", "key: expected an integer"),
        (int, True, "key: expected an integer"), (bool, "maybe", "key: expected true or false"),
        (str, False, "key: expected a string, got False (YAML reads yes/no/on/off as true/false"),
        (list[str], {"a": 1}, "key: expected a list"), (Path, 3, "key: expected a path"),
    ],
)
def test_values_that_do_not_parse_name_file_line_and_key(kind, value, problem) -> None:
    from babelir.training.coerce import coerce

    with pytest.raises(DataError, match=r"^c\.yaml:4: ") as info:
        coerce(kind, "key", value, ("c.yaml", 4))
    assert problem in str(info.value)


def test_yaml_learning_rate_in_e_notation_is_a_float(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("learning_rate: 2e-5\nsteps: '7'\n")
    config = build_config(str(cfg))
    assert config.learning_rate == 2e-5 and config.steps == 7


def test_a_bad_value_is_reported_at_its_line_or_at_its_flag(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 3\nlanguage_variant: sideways\nnonparallel_languages: [de, klingon]\n")
    with pytest.raises(DataError, match=r"c\.yaml:3: nonparallel_languages: unknown language code 'klingon'"):
        build_config(str(cfg))
    with pytest.raises(DataError, match=r"c\.yaml:2: language_variant: must be 'uniform' or 'rank'"):
        build_config(str(cfg), parse(["--nonparallel-languages", "DE"]))
    with pytest.raises(DataError, match=r"^--language-variant: must be 'uniform'"):
        build_config(None, parse(["--language-variant", "up"]))


def test_language_codes_are_normalised_and_checked_against_the_default_data() -> None:
    config = TrainConfig(language="EN", parallel_languages=["DE", "sw"]).validate()
    assert config.language == "en" and config.parallel_languages == ["de", "sw"]
    with pytest.raises(DataError, match="parallel_languages: no Bible text for 'nl'"):
        TrainConfig(parallel_languages=["nl"]).validate()
    with pytest.raises(DataError, match="parallel_languages: pairs are English -> another language"):
        TrainConfig(parallel_languages=["en", "de"]).validate()


def test_packaged_configs_resolve_by_name_without_a_checkout(tmp_path, monkeypatch) -> None:
    """``--config default`` reads the copy inside the package (what ``pip install babelir`` users have); the
    checkout's configs/ are links to the same files, so the two never differ."""
    from babelir.training.config_sources import packaged_configs

    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    shipped = packaged_configs()
    assert {"default", "pool", "smoke", "paper-scale"} <= shipped.keys()
    assert all("site-packages" in str(p) or "src/babelir/configs" in str(p) for p in shipped.values())
    root = Path(__file__).resolve().parents[2] / "configs"
    for name, path in shipped.items():
        assert (root / f"{name}.yaml").resolve() == path.resolve()
    assert load_config_file("default") == load_config_file(root / "default.yaml")
    with pytest.raises(DataError, match="no packaged config of that name .*default, "):
        load_config_file("defualt")
    (tmp_path / "default").write_text("steps: 3\n", encoding="utf-8")  # a file of that name is the user's
    with pytest.raises(DataError, match="config files must end in .yaml"):
        load_config_file("default")


def test_the_wheel_ships_the_packaged_configs() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["babelir"]
    assert "configs/*.yaml" in patterns
