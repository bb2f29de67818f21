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
from musicgen.tasks.text import WordVocab
from musicgen.tasks.translate.data import detokenize, tokenize
from musicgen.tasks.translate.decode import Hypothesis, beam_decode, greedy_decode
from musicgen.tasks.translate.model import Translator, TranslatorConfig

logger = logging.getLogger(__name__)

TASK = "translation"
#: The bundled translation model (English to French), inside the package.
BUNDLED_TRANSLATION_MODEL = "translate-en-fr"
#: Source words read per sentence; the rest of a longer sentence is dropped
#: (with a warning), which bounds time and memory for any input.
MAX_SOURCE_WORDS = 200
#: The output layer's weight, tied to the decoder's embedding (not stored twice).
TIED = "output.weight"


@dataclass
class Translation:
    """A translated sentence with the words and attention behind it."""

    source: str
    text: str
    source_words: list[str]
    target_words: list[str]
    attention: torch.Tensor  # (target words, source words)
    truncated: bool = False


class TranslationModel(Saves):
    """The network, both vocabularies and both languages.

    Attributes:
        net: the :class:`~musicgen.tasks.translate.model.Translator`, in eval mode.
        source_vocab, target_vocab: the word vocabularies.
        source_language, target_language: ISO codes for the Moses tokenizers.
        train_config: how it was trained (None if unknown).
        metrics: scores recorded with it.
    """

    def __init__(
        self,
        net: Translator,
        source_vocab: WordVocab,
        target_vocab: WordVocab,
        source_language: str,
        target_language: str,
        train_config=None,
        metrics: dict | None = None,
    ):
        self.net, self.source_vocab, self.target_vocab = net, source_vocab, target_vocab
        self.source_language, self.target_language = source_language, target_language
        self.train_config, self.metrics = train_config, dict(metrics or {})

    def source_ids(self, words: list[str]) -> list[int]:
        """Source word indices ending in ``<eos>``."""
        return self.source_vocab.encode(words) + [WordVocab.eos_id]

    def _batch(self, word_lists: list[list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, lengths = pad_sequences([self.source_ids(words) for words in word_lists])
        device = next(self.net.parameters()).device
        return ids.to(device), lengths.to(device)

    def _words(self, hypothesis: Hypothesis, source_words: list[str]) -> list[str]:
        """Target words; an ``<unk>`` becomes the source word it attends to most."""
        words = []
        for position, index in enumerate(hypothesis.ids):
            if index in (WordVocab.pad_id, WordVocab.bos_id):
                continue
            word = self.target_vocab.words[index]
            if index == WordVocab.unk_id and len(hypothesis.attention) > position and source_words:
                focus = int(hypothesis.attention[position, : len(source_words)].argmax())
                word = source_words[focus]
            words.append(word)
        return words

    def translate(
        self,
        sentences: list[str],
        beam: int = 1,
        batch_size: int = 64,
        length_penalty: float = 1.0,
        max_ratio: float = 2.0,
    ) -> list[Translation]:
        """Translate sentences; ``beam`` 1 is greedy decoding.

        An empty sentence translates to an empty one. Words the model never
        saw are read as ``<unk>``; an ``<unk>`` in the output is replaced by
        the source word it attends to most (names and numbers come through).
        """
        self.net.eval()
        results: list[Translation | None] = [None] * len(sentences)
        work = []
        for i, sentence in enumerate(sentences):
            words = tokenize(sentence.strip(), self.source_language) if sentence.strip() else []
            if not words:
                results[i] = Translation(sentence, "", [], [], torch.zeros(0, 0))
                continue
            truncated = len(words) > MAX_SOURCE_WORDS
            if truncated:
                logger.warning(
                    "sentence %d has %d words; only the first %d are translated", i + 1, len(words), MAX_SOURCE_WORDS
                )
            work.append((i, words[:MAX_SOURCE_WORDS], truncated))
        work.sort(key=lambda item: len(item[1]))  # similar lengths batch together
        for start in range(0, len(work), batch_size):
            chunk = work[start : start + batch_size]
            source, lengths = self._batch([words for _, words, _ in chunk])
            if beam == 1:
                hypotheses = greedy_decode(self.net, source, lengths, max_ratio=max_ratio)
            else:
                hypotheses = beam_decode(self.net, source, lengths, beam, length_penalty, max_ratio=max_ratio)
            for (i, words, truncated), hypothesis in zip(chunk, hypotheses):
                target = self._words(hypothesis, words)
                text = detokenize(target, self.target_language)
                attention = hypothesis.attention[:, : len(words)]
                results[i] = Translation(sentences[i], text, words, target, attention, truncated)
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
            "vocab": {"source": self.source_vocab.words, "target": self.target_vocab.words},
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
    try:
        vocabs = WordVocab(data["vocab"]["source"]), WordVocab(data["vocab"]["target"])
        source_language, target_language = data["languages"]
        train_config = TranslateTrainConfig.from_dict(data["train_config"]) if data.get("train_config") else None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CheckpointError(f"{path}: its vocabulary or settings are not valid ({str(error)[:160]})") from None
    net.eval()
    return TranslationModel(net, *vocabs, source_language, target_language, train_config, data.get("metrics"))
