"""The model a training run starts from, and what DistributedDataParallel must be told about it.

``build_model``: the backbone loaded on its device with the run's sequence length, frozen word embeddings
and activation checkpointing; ``unused_parameters``: the trainable parameters no sentence embedding
reaches (DDP ignores them instead of walking the graph on every forward).
"""

from __future__ import annotations

from typing import Any

import torch

from babelir.training.config import TrainConfig


def build_model(config: TrainConfig, device: torch.device | str = "cpu"):
    from babelir.encoding import load_model

    model = load_model(config.backbone, device=str(device))
    encoder_config = model[0].auto_model.config
    positions = getattr(encoder_config, "max_position_embeddings", None)
    if isinstance(positions, int) and encoder_config.model_type in ("roberta", "xlm-roberta", "camembert"):
        positions -= (encoder_config.pad_token_id or 0) + 1  # their positions start after the padding id
    if isinstance(positions, int) and config.max_seq_length > positions:
        from babelir.data.errors import DataError

        raise DataError("<config>", None, f"max_seq_length: {config.max_seq_length} is more than the "
                        f"{positions} positions of {config.backbone}; use at most {positions}")
    model.max_seq_length = config.max_seq_length
    if config.freeze_word_embeddings:
        model[0].auto_model.get_input_embeddings().weight.requires_grad_(False)
    if config.gradient_checkpointing:
        # non-reentrant: works with frozen embeddings (inputs that need no grad) and with DDP; transformers 5
        # renamed the method (the old name warns), older releases only have the old one
        encoder = model[0].auto_model
        if hasattr(encoder, "activation_checkpointing_enable"):
            encoder.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def unused_parameters(model: torch.nn.Module) -> list[str]:
    """Trainable parameters that get no gradient from a sentence embedding (same on every rank).

    Found with one eval-mode forward/backward on a fixed text: eval mode draws no dropout randomness, so
    the probe leaves the RNG streams of training untouched.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            features = on_device(model.preprocess(["probe"]), next(model.parameters()).device)
            model(features)["sentence_embedding"].sum().backward()
        names = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return names


def on_device(features: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """A tokenised batch with its tensors moved to ``device`` (a no-op where they already are)."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
