"""How much of each training step's gradient each loss carries, and whether the losses pull together.

Why: whether the language loss pays depends on what it does to the update. Two numbers per loss answer
it: the norm of its own (weighted) gradient, the share of the update it drives, and the cosine between
its gradient and each other loss's, where a negative cosine means the two losses pull the weights apart
(the "conflicting gradients" of multi-task learning; Yu et al. 2020, "Gradient Surgery for Multi-Task
Learning"). Both come from the step's own graph (``torch.autograd.grad`` with ``retain_graph``), so no
extra forward pass runs, no random number is drawn, and the weights end exactly as without them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch


def gradient_diagnostics(parts: dict[str, torch.Tensor], params: Sequence[torch.Tensor]) -> dict[str, Any]:
    """``{"grad_norm": {loss: norm}, "grad_cosine": {"a~b": cosine}}`` for the weighted losses ``parts``
    over the trainable ``params``; call before the step's backward (the graph is kept for it)."""
    grads: dict[str, list[torch.Tensor | None]] = {}
    for name, value in parts.items():
        if value.requires_grad:
            grads[name] = list(torch.autograd.grad(value, params, retain_graph=True, allow_unused=True))

    def dot(a: list[torch.Tensor | None], b: list[torch.Tensor | None]) -> float:
        # tensor by tensor in float64: no flattened copy of the whole gradient
        return sum(float(torch.sum(x.double() * y.double())) for x, y in zip(a, b, strict=True)
                   if x is not None and y is not None)

    norms = {name: math.sqrt(dot(g, g)) for name, g in grads.items()}
    cosines = {}
    for (a, ga), (b, gb) in itertools.combinations(grads.items(), 2):
        denominator = norms[a] * norms[b]
        cosines[f"{a}~{b}"] = dot(ga, gb) / denominator if denominator > 0 else 0.0
    return {"grad_norm": norms, "grad_cosine": cosines}


def summarise_diagnostics(log: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The diagnosed steps of a ``train_log.jsonl`` (its records, in order) in a few numbers: for each loss's
    gradient norm and each cosine, the mean over the first and the second half of training and overall.
    ``None`` when no step was diagnosed."""
    diagnosed = [r for r in log if "grad_norm" in r]
    if not diagnosed:
        return None
    last_step = log[-1]["step"]
    summary: dict[str, Any] = {"steps": [r["step"] for r in diagnosed]}
    for key in ("grad_norm", "grad_cosine"):
        names = list(dict.fromkeys(name for r in diagnosed for name in r[key]))
        summary[key] = {}
        for name in names:
            values = [(r["step"], r[key][name]) for r in diagnosed if name in r[key]]
            halves = {"first_half": [v for s, v in values if s <= last_step / 2],
                      "second_half": [v for s, v in values if s > last_step / 2],
                      "all": [v for _, v in values]}
            summary[key][name] = {half: sum(vs) / len(vs) if vs else None for half, vs in halves.items()}
    return summary
