"""configs/pool.yaml: the defaults plus the semantic loss, every other setting as configs/default.yaml."""

from pathlib import Path

from babelir.training.config import TrainConfig
from babelir.training.config_sources import load_config_file

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_the_pool_preset_is_the_defaults_with_the_semantic_loss() -> None:
    pool = TrainConfig(**load_config_file(CONFIGS / "pool.yaml")).validate()
    default = TrainConfig(**load_config_file(CONFIGS / "default.yaml")).validate()
    assert pool.semantic_weight == 1.0 and pool.language_weight == 1.0 and default.semantic_weight == 0.0
    differing = {k for k, v in pool.to_dict().items() if default.to_dict()[k] != v}
    assert differing == {"semantic_weight"}
