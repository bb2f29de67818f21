"""Words for the text tasks: a tokenizer and a word vocabulary.

Sentiment and translation read words, not characters. Their vocabularies are
built from training data only and stored in the checkpoint as a word list, so
prediction never needs the training data.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

# Contractions split as the Penn Treebank does (and SST-2 is tokenized):
# "wasn't" -> "was n't", "it's" -> "it 's".
_CONTRACTION = re.compile(r"(?i)(\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")
_WORD = re.compile(r"'(?:s|re|ve|ll|d|m)\b|\w+(?:[-'.]\w+)*|[^\w\s]")


def text_lines(text: str) -> list[str]:
    """Lines split at ``\n`` (``\r\n`` too) only.

    ``str.splitlines`` also breaks at U+0085, U+2028 and other separators
    that occur inside real sentences (the UCI IMDb file has a U+0085), which
    would cut a labelled line in two.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def tokenize_words(text: str, lower: bool = True) -> list[str]:
    """Split text into words and punctuation, Penn-Treebank style.

    >>> tokenize_words("The food wasn't bad, not at all.")
    ['the', 'food', 'was', "n't", 'bad', ',', 'not', 'at', 'all', '.']
    """
    if lower:
        text = text.lower()
    text = _CONTRACTION.sub(r"\1 \2", text)
    return _WORD.findall(text)


class WordVocab:
    """Maps words to indices and back; index 0 is ``<pad>`` and 1 is ``<unk>``.

    ``<bos>`` and ``<eos>`` (2 and 3) are always present, whether a task uses
    them or not, so every vocabulary has the same special indices.
    """

    def __init__(self, words: Iterable[str]):
        rest = [w for w in words if w not in SPECIALS]
        self.words: list[str] = [*SPECIALS, *rest]
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("a vocabulary lists each word once")

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    @classmethod
    def build(cls, sentences: Iterable[list[str]], min_freq: int = 1, max_size: int | None = None) -> WordVocab:
        """The words seen at least ``min_freq`` times, most frequent first.

        Ties are broken alphabetically, so the same data gives the same
        vocabulary.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be 1 or more, not {min_freq}")
        counts = Counter(word for sentence in sentences for word in sentence)
        ranked = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        return cls(ranked[:max_size] if max_size else ranked)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Indices of the tokens; unknown words become ``<unk>``."""
        return [self.index.get(token, self.unk_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of a sequence of indices."""
        return [self.words[i] for i in ids]

    def __repr__(self) -> str:
        return f"WordVocab({len(self)} words)"


def subword_ids(word: str, buckets: int, smallest: int = 3, largest: int = 5, most: int = 24) -> list[int]:
    """Hashed character n-grams of ``<word>`` (fastText style), as ids 1..buckets.

    Words the vocabulary never saw still share n-grams with ones it did
    ("unfunny" with "funny"), so a model can read them. The hash (CRC-32) is
    the same in every process, so ids are stable across runs and machines.
    """
    framed = f"<{word}>"
    grams = [framed[i : i + n] for n in range(smallest, largest + 1) for i in range(len(framed) - n + 1)]
    return [zlib.crc32(gram.encode()) % buckets + 1 for gram in grams[:most]]
