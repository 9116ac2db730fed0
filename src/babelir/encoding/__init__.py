"""Load any supported model and encode queries or documents with the prompts it expects.

Model directories saved by babelir carry their prompts in ``config_sentence_transformers.json``
(``query: `` / ``passage: `` for e5 backbones), so ``SentenceTransformer.encode_query`` and
``encode_document`` do the right thing anywhere; :func:`encode` picks the prompt by role.

* :mod:`.model`: :func:`load_model` (a backbone name or a model directory; PyTorch or ONNX backend);
* :mod:`.encode`: :func:`encode` (texts -> float32 rows, L2-normalised);
* :mod:`.protocol`: the one :class:`Encoder` protocol every command encodes through (:class:`ModelEncoder`
  for any model and backend, the USE baseline);
* :mod:`.onnx`: the fast CPU path (:class:`OnnxEncoder`, an int8 ONNX Runtime export cached per model);
* :mod:`.command`: ``babelir encode MODEL TEXTS --output FILE``.

``babelir.encoding.encode`` is the function: the package re-exports it over the submodule of the
same name.
"""

from babelir.encoding.encode import encode
from babelir.encoding.model import BACKENDS, Backend, load_model
from babelir.encoding.onnx import OnnxEncoder, export_onnx, onnx_cache_for
from babelir.encoding.protocol import Encoder, ModelEncoder, UniversalSentenceEncoder
from babelir.identity import Role, prompt_for

__all__ = [
    "BACKENDS",
    "Backend",
    "Encoder",
    "ModelEncoder",
    "OnnxEncoder",
    "Role",
    "encode",
    "export_onnx",
    "load_model",
    "onnx_cache_for",
    "prompt_for",
    "UniversalSentenceEncoder",
]
