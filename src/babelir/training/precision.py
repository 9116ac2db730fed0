"""``--precision`` for one training run: the autocast context and the loss scaler.

The encoder runs under ``torch.autocast`` in bf16 or fp16; similarity logits leave autocast
(:func:`babelir.losses._common.cosine_logits`) and losses are fp32. fp16's narrow range needs loss scaling
(``GradScaler``, whose state checkpoints carry); bf16 and fp32 do not, and then the scaler is a no-op.
"""

from __future__ import annotations

import contextlib

import torch

from babelir.utils.devices import resolve_precision


class MixedPrecision:
    def __init__(self, spec: str, device: torch.device):
        self.name = resolve_precision(spec, str(device))  # auto -> bf16 on a GPU that supports it, else fp32
        self.device_type = device.type
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.name)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.name == "fp16")

    def autocast(self) -> contextlib.AbstractContextManager:
        """The encoder in bf16/fp16 (a no-op in fp32)."""
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)
