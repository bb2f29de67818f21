"""A trained translation model with its vocabularies: translate, align, save, load."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from musicgen.errors import CheckpointError
from musicgen.model.checkpoint import build_from_checkpoint, bundled_model_path
from musicgen.model.core import pad_sequences
from musicgen.model.persistence import Saves, float_weights, load_model_data
from musicgen.tasks.translate.decode import beam_decode, greedy_decode
from musicgen.tasks.translate.model import Translator, TranslatorConfig
from musicgen.tasks.translate.subword import SubwordVocab

logger = logging.getLogger(__name__)

TASK = "translation"
#: The bundled translation model (English to French), inside the package.
BUNDLED_TRANSLATION_MODEL = "translate-en-fr"
#: Source pieces read per sentence (about 200 words); the rest of a longer
#: sentence is dropped (with a warning), which bounds time and memory for any input.
MAX_SOURCE_PIECES = 300
#: The output layer's weight, tied to the decoder's embedding (not stored twice).
TIED = "output.weight"


@dataclass
class Translation:
    """A translated sentence with the subword pieces and attention behind it."""

    source: str
    text: str
    source_pieces: list[str]
    target_pieces: list[str]
    attention: torch.Tensor  # (target pieces, source pieces)
    truncated: bool = False


class TranslationModel(Saves):
    """The network, both vocabularies and both languages.

    Attributes:
        net: the :class:`~musicgen.tasks.translate.model.Translator`, in eval mode.
        source_vocab, target_vocab: the subword vocabularies.
        source_language, target_language: ISO codes (``en``, ``fr``...), as labels.
        train_config: how it was trained (None if unknown).
        metrics: scores recorded with it.
    """

    def __init__(
        self,
        net: Translator,
        source_vocab: SubwordVocab,
        target_vocab: SubwordVocab,
        source_language: str,
        target_language: str,
        train_config=None,
        metrics: dict | None = None,
    ):
        self.net, self.source_vocab, self.target_vocab = net, source_vocab, target_vocab
        self.source_language, self.target_language = source_language, target_language
        self.train_config, self.metrics = train_config, dict(metrics or {})

    def source_ids(self, text: str) -> list[int]:
        """Source piece indices ending in ``<eos>``."""
        return SubwordVocab.terminated(self.source_vocab.encode(text))

    def translate(
        self,
        sentences: list[str],
        beam: int = 1,
        batch_size: int = 64,
        length_penalty: float = 1.0,
        max_ratio: float = 2.0,
    ) -> list[Translation]:
        """Translate sentences; ``beam`` 1 is greedy decoding.

        An empty sentence translates to an empty one. Every word, seen in
        training or not, is spelt by subword pieces, so names and numbers
        the model learnt to copy come through piece by piece.
        """
        self.net.eval()
        results: list[Translation | None] = [None] * len(sentences)
        work = []
        for i, sentence in enumerate(sentences):
            ids = self.source_vocab.encode(sentence.strip()) if sentence.strip() else []
            if not ids:
                results[i] = Translation(sentence, "", [], [], torch.zeros(0, 0))
                continue
            truncated = len(ids) > MAX_SOURCE_PIECES
            if truncated:
                logger.warning(
                    "sentence %d has %d pieces; only the first %d are translated", i + 1, len(ids), MAX_SOURCE_PIECES
                )
            work.append((i, ids[:MAX_SOURCE_PIECES], truncated))
        work.sort(key=lambda item: len(item[1]))  # similar lengths batch together
        device = next(self.net.parameters()).device
        for start in range(0, len(work), batch_size):
            chunk = work[start : start + batch_size]
            source, lengths = pad_sequences([SubwordVocab.terminated(ids) for _, ids, _ in chunk])
            source, lengths = source.to(device), lengths.to(device)
            if beam == 1:
                hypotheses = greedy_decode(self.net, source, lengths, max_ratio=max_ratio)
            else:
                hypotheses = beam_decode(self.net, source, lengths, beam, length_penalty, max_ratio=max_ratio)
            for (i, ids, truncated), hypothesis in zip(chunk, hypotheses):
                text = self.target_vocab.decode(hypothesis.ids)
                pieces = self.source_vocab.pieces(ids)
                attention = hypothesis.attention[:, : len(ids)]
                target = self.target_vocab.pieces(hypothesis.ids)
                results[i] = Translation(sentences[i], text, pieces, target, attention, truncated)
        return [result for result in results if result is not None]  # every sentence has its translation

    @classmethod
    def from_pretrained(cls, path: Path | str | None = None):
        """:func:`load_translation_model`: a saved folder or a ``.pt`` checkpoint; None loads the bundled model."""
        return load_translation_model(path)

    def payload(self, half: bool = False) -> dict:
        """The model's parts, shaped as a checkpoint (weights under ``"model"``)."""
        return {
            "task": TASK,
            "model_config": self.net.config.to_dict(),
            "train_config": self.train_config.to_dict() if self.train_config else {},
            "vocab": {"subwords": [self.source_vocab.to_text(), self.target_vocab.to_text()]},
            "languages": [self.source_language, self.target_language],
            "metrics": self.metrics,
            # the output layer is the target embedding: stored once
            "model": float_weights({k: v for k, v in self.net.state_dict().items() if k != TIED}, half),
        }

    def __repr__(self) -> str:
        return f"TranslationModel({self.source_language}->{self.target_language}, {self.net!r})"


def load_translation_model(path: Path | str | None = None) -> TranslationModel:
    """Load a translation checkpoint; None loads the bundled English-to-French model.

    Raises:
        CheckpointError: the file is missing, corrupt or not a translation model.
    """
    from musicgen.tasks.translate.train import TranslateTrainConfig

    path = Path(path) if path is not None else bundled_model_path(BUNDLED_TRANSLATION_MODEL)
    data = load_model_data(path, TASK, "translation model")
    net = build_from_checkpoint(
        path, data, lambda: Translator(TranslatorConfig.from_dict(data["model_config"])), may_lack=(TIED,)
    )
    vocab = data["vocab"]
    if isinstance(vocab, dict) and "source" in vocab and "subwords" not in vocab:
        raise CheckpointError(
            f"{path}: a word-vocabulary translator from an older musicgen; retrain it ('musicgen translate train')"
        )
    try:
        source_vocab, target_vocab = (SubwordVocab.from_text(text) for text in vocab["subwords"])
    except CheckpointError as error:
        raise CheckpointError(f"{path}: {error}") from None
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path}: its vocabulary is not valid ({str(error)[:160]})") from None
    if (len(source_vocab), len(target_vocab)) != (net.config.source_vocab_size, net.config.target_vocab_size):
        raise CheckpointError(f"{path}: its vocabularies do not match the network's sizes")
    try:
        source_language, target_language = data["languages"]
        train_config = TranslateTrainConfig.from_dict(data["train_config"]) if data.get("train_config") else None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CheckpointError(f"{path}: its settings are not valid ({str(error)[:160]})") from None
    net.eval()
    return TranslationModel(
        net, source_vocab, target_vocab, source_language, target_language, train_config, data.get("metrics")
    )
