"""Losses, one per module, each an ``nn.Module`` taking the model (sentence-transformers convention).

They work in ``SentenceTransformerTrainer`` (single or dict-of-datasets training) as well as in
babelir's trainer.
"""

from babelir.losses.combined import CoTrainingLoss
from babelir.losses.distillation import TranslationDistillationLoss
from babelir.losses.dropout_views import DropoutViewContrastiveLoss
from babelir.losses.erasure import LanguageErasureLoss
from babelir.losses.language import LanguageContrastiveLoss
from babelir.losses.late_interaction import LateInteractionInfoNCELoss, maxsim
from babelir.losses.retrieval import RetrievalInfoNCELoss
from babelir.losses.semantic import SemanticContrastiveLoss

__all__ = [
    "CoTrainingLoss",
    "DropoutViewContrastiveLoss",
    "LanguageContrastiveLoss",
    "LanguageErasureLoss",
    "LateInteractionInfoNCELoss",
    "RetrievalInfoNCELoss",
    "SemanticContrastiveLoss",
    "TranslationDistillationLoss",
    "maxsim",
]
