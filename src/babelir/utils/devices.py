"""Where a command computes: ``--device auto|cpu|cuda|cuda:N``, one rule for every command that encodes or trains.

``auto`` (the default everywhere) is a CUDA GPU when torch sees one, else the CPU, so the same command
runs on a laptop and on a GPU node. Asking for CUDA where torch sees none (a CPU build of torch, no
driver, ``CUDA_VISIBLE_DEVICES=``) is an expected failure with one line, not a traceback deep in torch.
Under ``torchrun`` with NCCL each rank uses its own GPU (:mod:`babelir.training.distributed`), whatever
this says.
"""

from __future__ import annotations

import argparse
import re

from babelir.utils.errors import BabelirError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
DEVICE_HELP = "where to compute: auto (a CUDA GPU when torch sees one, else the CPU), cpu, cuda or cuda:N (default: auto)"
_CUDA = re.compile(r"cuda(?::(\d+))?")


def is_device_spelling(spec: str) -> bool:
    """True for the spellings :func:`resolve_device` knows (whether the device exists is not checked)."""
    wanted = spec.strip().lower()
    return wanted in ("auto", "cpu") or _CUDA.fullmatch(wanted) is not None


def resolve_device(spec: str | None = "auto") -> str:
    """``spec`` as a torch device string (``cpu``, ``cuda``, ``cuda:1``); ``None`` means ``auto``.

    Raises :class:`BabelirError` for an unknown spelling, for CUDA where torch sees no GPU, and for a GPU
    number beyond the ones visible.
    """
    import torch

    wanted = (spec or "auto").strip().lower()
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cpu":
        return "cpu"
    match = _CUDA.fullmatch(wanted)
    if match is None:
        raise BabelirError(None, None, f"--device {spec!r}: choose {DEVICE_CHOICES}")
    if not torch.cuda.is_available():
        raise BabelirError(
            None, None,
            f"--device {wanted}: torch sees no CUDA GPU here (a CPU build of torch, no driver, or "
            "CUDA_VISIBLE_DEVICES hides it); use --device cpu, or auto",
        )
    if match.group(1) is not None and int(match.group(1)) >= torch.cuda.device_count():
        raise BabelirError(
            None, None, f"--device {wanted}: only {torch.cuda.device_count()} GPU(s) visible (cuda:0 ...)"
        )
    return wanted


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--device`` flag, spelled and explained the same in every command."""
    parser.add_argument("--device", default="auto", metavar="DEVICE", help=DEVICE_HELP)


PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PRECISION_HELP = (
    "training arithmetic: auto (bf16 on a GPU that supports it, else fp32), fp32, bf16 or fp16 (with loss "
    "scaling); similarity logits and loss values are always computed in fp32"
)


def resolve_precision(spec: str, device: str) -> str:
    """``auto`` -> ``bf16`` on a CUDA device that supports it, else ``fp32``; explicit values pass through.

    On a CPU ``auto`` stays fp32: bf16 pays only where the processor has native bf16 units (AVX-512 BF16,
    AMX), and elsewhere it is emulated and slower; ask for ``bf16`` explicitly there
    (``benchmarks/train_speed.py`` prints the ratio on the machine at hand).
    """
    import torch

    if spec not in PRECISIONS:
        raise BabelirError(None, None, f"--precision {spec!r}: choose {', '.join(PRECISIONS)}")
    if spec != "auto":
        return spec
    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


NATIVE_PATH_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def processor_paths() -> str:
    """The CPU flags that decide which arithmetic is native (bf16 without avx512_bf16 or amx_bf16 is
    emulated; int8 is fastest with VNNI or AMX), for benchmarks to print beside their figures. Linux only
    ('?' elsewhere)."""
    from pathlib import Path

    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        flags = next(line for line in lines if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "?"
    return ", ".join(f for f in NATIVE_PATH_FLAGS if f in flags) or "none of " + ", ".join(NATIVE_PATH_FLAGS)
