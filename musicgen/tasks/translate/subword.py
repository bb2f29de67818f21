"""Subword vocabularies for translation: a sentencepiece unigram model per language.

A sentence is cut into pieces learnt from the training text ("▁J", "'", "ai",
"▁froid", "."), so every word, seen or not, is spelt by the vocabulary:
there is no ``<unk>`` to copy over. Characters the training text never had
are spelt as UTF-8 bytes (byte fallback), and the text is not normalised, so
``decode(encode(text)) == text`` for any stripped text whose spaces are
single. The trained model is kept as its serialised bytes, stored in the
checkpoint (sentencepiece parses them as data; nothing runs).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable

from musicgen.errors import CheckpointError, CorpusError
from musicgen.extras import need

#: Special ids, the same as :class:`~musicgen.tasks.text.WordVocab`'s.
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
#: Smallest vocabulary: the specials, 256 byte pieces and some room for letters.
MIN_VOCAB_SIZE = 300
#: Longest training sentence read, in characters (sentencepiece's own default).
MAX_SENTENCE_CHARS = 4192


def check_vocab_size(vocab_size: int) -> None:
    """Raise ``ValueError`` unless ``vocab_size`` leaves room beside the 256 byte pieces."""
    if vocab_size < MIN_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be {MIN_VOCAB_SIZE} or more (256 are byte pieces), not {vocab_size}")


class SubwordVocab:
    """Text to piece ids and back, for one language.

    Index 0 is ``<pad>``, 1 ``<unk>``, 2 ``<bos>`` and 3 ``<eos>``.
    """

    pad_id, unk_id, bos_id, eos_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID

    def __init__(self, model: bytes):
        """Load a trained sentencepiece model from its serialised bytes.

        Raises:
            CheckpointError: the bytes are not a sentencepiece model with these special ids.
        """
        spm = need("sentencepiece")
        self.model = bytes(model)
        self._processor = spm.SentencePieceProcessor()
        try:
            self._processor.LoadFromSerializedProto(self.model)
        except (RuntimeError, TypeError, ValueError) as error:
            raise CheckpointError(f"not a subword vocabulary ({str(error)[:120]})") from None
        specials = (self._processor.pad_id(), self._processor.unk_id(), self._processor.bos_id())
        if specials + (self._processor.eos_id(),) != (PAD_ID, UNK_ID, BOS_ID, EOS_ID):
            raise CheckpointError("subword vocabulary has other special ids than <pad> 0, <unk> 1, <bos> 2, <eos> 3")

    @classmethod
    def train(cls, sentences: Iterable[str], vocab_size: int = 8000, seed_text: str = "") -> SubwordVocab:
        """Learn a unigram vocabulary of at most ``vocab_size`` pieces from sentences.

        A small corpus gets fewer pieces than asked for (the limit is soft).
        The same sentences give the same vocabulary.

        Raises:
            ValueError: ``vocab_size`` is below :data:`MIN_VOCAB_SIZE`.
            CorpusError: no sentence has text.
        """
        check_vocab_size(vocab_size)
        lines = [s for s in (s.strip() for s in sentences) if s]
        if not lines:
            raise CorpusError("no text to learn a subword vocabulary from")
        spm = need("sentencepiece")
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=out,
                vocab_size=vocab_size,
                model_type="unigram",
                hard_vocab_limit=False,
                character_coverage=1.0,
                byte_fallback=True,
                normalization_rule_name="identity",
                remove_extra_whitespaces=False,
                max_sentence_length=MAX_SENTENCE_CHARS,
                pad_id=PAD_ID,
                unk_id=UNK_ID,
                bos_id=BOS_ID,
                eos_id=EOS_ID,
                num_threads=1,  # the same pieces on every machine
                minloglevel=2,
            )
        except RuntimeError as error:
            raise CorpusError(f"cannot learn a subword vocabulary: {str(error)[:200]}") from None
        return cls(out.getvalue())

    def __len__(self) -> int:
        return self._processor.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """Piece ids of ``text`` (no ``<bos>``/``<eos>``)."""
        return self._processor.encode(text, out_type=int)

    @staticmethod
    def terminated(ids: list[int]) -> list[int]:
        """``ids`` followed by ``<eos>``: how a source sentence enters the encoder."""
        return [*ids, EOS_ID]

    def pieces(self, ids: Iterable[int]) -> list[str]:
        """The pieces of a sequence of ids, as text ("▁" marks a word start)."""
        return [self._processor.id_to_piece(i) for i in ids]

    def decode(self, ids: Iterable[int]) -> str:
        """The text the ids spell; special ids are skipped."""
        return self._processor.decode([i for i in ids if i > EOS_ID])

    def to_text(self) -> str:
        """The model as base64 text, for a JSON vocabulary file."""
        return base64.b64encode(self.model).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> SubwordVocab:
        """Inverse of :meth:`to_text`.

        Raises:
            CheckpointError: the text is not base64 of a sentencepiece model.
        """
        if not isinstance(text, str):
            raise CheckpointError("subword vocabulary is not base64 text")
        try:
            model = base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise CheckpointError("subword vocabulary is not base64 text") from None
        return cls(model)

    def __repr__(self) -> str:
        return f"SubwordVocab({len(self)} pieces)"
