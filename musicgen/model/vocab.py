"""Character vocabulary with tune start and end markers."""

from __future__ import annotations

from collections.abc import Iterable

#: Marks the start of a tune in the model's input (never written to files).
START = "\x02"
#: Marks the end of a tune: the model writes it when the tune is finished.
END = "\x03"


class Vocabulary:
    """Maps characters to indices and back.

    Index 0 is :data:`START` and index 1 is :data:`END`; the other characters
    follow in sorted order, so the same texts always give the same vocabulary.
    """

    def __init__(self, chars: Iterable[str]):
        rest = sorted(set(chars) - {START, END})
        self.chars: list[str] = [START, END, *rest]
        self.index = {char: i for i, char in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        """The vocabulary of every character in the texts."""
        chars: set[str] = set()
        for text in texts:
            chars.update(text)
        return cls(chars)

    @property
    def start_id(self) -> int:
        return 0

    @property
    def end_id(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: str) -> bool:
        return char in self.index

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` outside the vocabulary, in order of appearance."""
        return list(dict.fromkeys(char for char in text if char not in self.index))

    def encode(self, text: str) -> list[int]:
        """Indices of the characters of ``text``.

        Raises:
            KeyError: a character is not in the vocabulary (see :meth:`unknown`).
        """
        return [self.index[char] for char in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of indices."""
        return "".join(self.chars[i] for i in ids)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters)"
