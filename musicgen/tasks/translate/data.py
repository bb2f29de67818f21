"""Parallel text: reading it, tokenizing it, splitting it without leaks.

Two layouts are read:

- two aligned files, one sentence per line (Multi30k: ``train.de`` and
  ``train.en``); their line counts must match;
- one tab-separated file, ``english<TAB>other`` per line (Tatoeba pairs as
  manythings.org distributes them), plain or inside its ``.zip``.

The text is kept as written (cased, untokenised): the subword vocabularies
(:mod:`musicgen.tasks.translate.subword`) read it directly.
"""

from __future__ import annotations

import hashlib
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from musicgen.errors import MusicgenError
from musicgen.tasks.text import text_lines


class ParallelDataError(MusicgenError):
    """Parallel text that cannot be read."""


@dataclass(frozen=True)
class Pair:
    """A sentence and its translation."""

    source: str
    target: str


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ParallelDataError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise ParallelDataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ParallelDataError(f"{path}: cannot read ({error.strerror or error})") from None
    return text_lines(text)


def read_parallel(source_path: Path | str, target_path: Path | str) -> list[Pair]:
    """Pairs from two line-aligned files; lines empty on both sides are skipped.

    Raises:
        ParallelDataError: a file is missing, the line counts differ, or a
            line is empty on one side only.
    """
    source_path, target_path = Path(source_path), Path(target_path)
    sources, targets = _read_lines(source_path), _read_lines(target_path)
    if len(sources) != len(targets):
        raise ParallelDataError(
            f"{source_path} has {len(sources)} lines but {target_path} has "
            f"{len(targets)}: parallel files must be aligned line by line"
        )
    pairs = []
    for n, (source, target) in enumerate(zip(sources, targets), 1):
        if not source.strip() and not target.strip():
            continue
        if not source.strip() or not target.strip():
            raise ParallelDataError(f"line {n}: empty on one side only ({source_path}, {target_path})")
        pairs.append(Pair(source.strip(), target.strip()))
    if not pairs:
        raise ParallelDataError(f"{source_path}: no sentence pairs")
    return pairs


def _tsv_text(path: Path) -> str:
    if path.suffix.lower() != ".zip":
        return "\n".join(_read_lines(path))
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".txt") and not n.startswith("_")]
            if not names:
                raise ParallelDataError(f"{path}: no pairs file (*.txt) inside")
            return archive.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, OSError) as error:
        raise ParallelDataError(f"{path}: cannot read zip ({error})") from None


def read_tsv_pairs(path: Path | str, reverse: bool = False) -> list[Pair]:
    """Pairs from ``english<TAB>other`` lines (extra columns, such as credits, are ignored).

    Args:
        reverse: translate from the second column to the first.

    Raises:
        ParallelDataError: the file is missing, or a non-empty line has no tab.
    """
    path = Path(path)
    pairs = []
    for n, line in enumerate(text_lines(_tsv_text(path)), 1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2 or not columns[0].strip() or not columns[1].strip():
            raise ParallelDataError(f"{path}:{n}: expected 'sentence<TAB>translation'")
        first, second = columns[0].strip(), columns[1].strip()
        pairs.append(Pair(second, first) if reverse else Pair(first, second))
    if not pairs:
        raise ParallelDataError(f"{path}: no sentence pairs")
    return pairs


def _bucket(text: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_pairs(
    pairs: list[Pair], fraction: float = 0.05, seed: int = 0, key: str = "source"
) -> tuple[list[Pair], list[Pair]]:
    """Hold out about ``fraction`` of the pairs, grouped by one side's sentence.

    Tatoeba repeats sentences with several translations; grouping by
    ``key`` (``source`` or ``target``: the English side) keeps every copy of
    a sentence on one side of the split, so the held-out set never leaks.
    """
    if key not in ("source", "target"):
        raise ValueError(f"key must be source or target, not {key!r}")
    held = [p for p in pairs if _bucket(getattr(p, key), seed) < fraction]
    kept = [p for p in pairs if _bucket(getattr(p, key), seed) >= fraction]
    return kept, held


def sample_pairs(pairs: list[Pair], count: int, seed: int = 0) -> list[Pair]:
    """At most ``count`` of the pairs, chosen at random (the same ones for the same seed), in their order."""
    if count < 1:
        raise ValueError(f"count must be 1 or more, not {count}")
    if count >= len(pairs):
        return list(pairs)
    chosen = sorted(random.Random(seed).sample(range(len(pairs)), count))
    return [pairs[i] for i in chosen]
