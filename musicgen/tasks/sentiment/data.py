"""Labelled sentences: reading the common formats, splitting, batching.

Three formats are read, told apart by the file name and its first line:

- ``text<TAB>label`` (the UCI Sentiment Labelled Sentences): each line is
  split on its *last* tab, with no CSV quoting (the IMDb file has stray
  double quotes);
- ``label text`` (SST-2 as distributed by harvardnlp): the first word is the
  label;
- tab-separated with a header row (GLUE's SST-2 ``train.tsv``:
  ``sentence<TAB>label``): a first line whose fields are column names rather
  than a sentence and a label; the columns are found by name as for CSV, and
  every later line must have as many tab-separated fields as the header;
- CSV with a header row (``.csv`` files): the text and label columns are
  found by name (``text``/``sentence``/``review`` and
  ``label``/``sentiment``/``polarity``) or given explicitly.

Labels are ``1``/``0``, ``positive``/``negative`` or ``pos``/``neg`` (any
case). Empty lines are skipped; any other line that does not fit the file's
format is an error naming the file and line, since a silently dropped line
would change the results.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from musicgen.errors import MusicgenError
from musicgen.tasks.text import text_lines

LABELS = {"1": 1, "0": 0, "positive": 1, "negative": 0, "pos": 1, "neg": 0}
TEXT_COLUMNS = ("text", "sentence", "review", "content")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "score")


class DataError(MusicgenError):
    """A labelled-sentence file that cannot be read."""


@dataclass(frozen=True)
class Example:
    """One sentence and its label (1 positive, 0 negative)."""

    text: str
    label: int


def parse_label(value: str, where: str) -> int:
    """The label ``value`` stands for, or a DataError naming ``where``."""
    label = LABELS.get(value.strip().lower())
    if label is None:
        raise DataError(f"{where}: unknown label {value.strip()!r} (expected 1/0, positive/negative or pos/neg)")
    return label


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _tab_line(line: str, where: str) -> Example:
    text, tab, label = line.rpartition("\t")
    if not tab:
        raise DataError(f"{where}: expected 'text<TAB>label' like the file's first line")
    return Example(text.strip(), parse_label(label, where))


def _label_first_line(line: str, where: str) -> Example:
    label, _, text = line.strip().partition(" ")
    if "\t" in line or not text.strip():
        raise DataError(f"{where}: expected 'label text' like the file's first line")
    return Example(text.strip(), parse_label(label, where))


def _is_header(line: str) -> bool:
    """Whether a tab-separated first line names columns (GLUE's ``sentence<TAB>label``)."""
    fields = [field.strip().lower() for field in line.split("\t")]
    return (
        fields[-1] not in LABELS and any(f in LABEL_COLUMNS for f in fields) and any(f in TEXT_COLUMNS for f in fields)
    )


def _read_tsv(
    path: Path, lines: list[tuple[int, str]], text_column: str | None, label_column: str | None
) -> list[Example]:
    header = lines[0][1].split("\t")
    text_at = header.index(_pick_column(header, text_column, TEXT_COLUMNS, "text", path))
    label_at = header.index(_pick_column(header, label_column, LABEL_COLUMNS, "label", path))
    examples = []
    for n, line in lines[1:]:
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DataError(f"{path}:{n}: {len(fields)} tab-separated fields, the header has {len(header)}")
        if not fields[text_at].strip():
            raise DataError(f"{path}:{n}: empty text")
        examples.append(Example(fields[text_at].strip(), parse_label(fields[label_at], f"{path}:{n}")))
    if not examples:
        raise DataError(f"{path}: no labelled sentences under the header")
    return examples


def _read_lines(path: Path, text: str, text_column: str | None, label_column: str | None) -> list[Example]:
    lines = [(n, line) for n, line in enumerate(text_lines(text), 1) if line.strip()]
    if not lines:
        raise DataError(f"{path}: no labelled sentences")
    if "\t" in lines[0][1] and _is_header(lines[0][1]):
        return _read_tsv(path, lines, text_column, label_column)
    parse = _tab_line if "\t" in lines[0][1] else _label_first_line
    return [parse(line, f"{path}:{n}") for n, line in lines]


def _pick_column(header: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, path: Path) -> str:
    if wanted is not None:
        if wanted not in header:
            raise DataError(f"{path}: no column {wanted!r} (columns: {', '.join(header)})")
        return wanted
    for name in header:
        if name.strip().lower() in candidates:
            return name
    raise DataError(f"{path}: no {what} column among {', '.join(header)}; name it with the column option")


def _read_csv(path: Path, text: str, text_column: str | None, label_column: str | None) -> list[Example]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or [])
    text_key = _pick_column(header, text_column, TEXT_COLUMNS, "text", path)
    label_key = _pick_column(header, label_column, LABEL_COLUMNS, "label", path)
    examples = []
    for n, row in enumerate(reader, 2):
        sentence = (row.get(text_key) or "").strip()
        if not sentence and not (row.get(label_key) or "").strip():
            continue
        if not sentence:
            raise DataError(f"{path}:{n}: empty text")
        examples.append(Example(sentence, parse_label(row.get(label_key) or "", f"{path}:{n}")))
    if not examples:
        raise DataError(f"{path}: no labelled sentences")
    return examples


def read_examples(path: Path | str, text_column: str | None = None, label_column: str | None = None) -> list[Example]:
    """Every labelled sentence in a file, in file order.

    Raises:
        DataError: the file is missing or unreadable, has no sentences, or a
            line has an unknown label or does not fit the file's format.
    """
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path, text, text_column, label_column)
    return _read_lines(path, text, text_column, label_column)


def read_sentences(text: str) -> list[str]:
    """The non-empty lines of a text, one sentence each, for prediction."""
    return [line.strip() for line in text_lines(text) if line.strip()]


def _bucket(text: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_examples(
    examples: list[Example], fraction: float = 0.1, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Hold out about ``fraction`` of the examples, chosen by a hash of the text.

    The same sentence always lands on the same side, so repeated sentences
    never leak from training into validation.
    """
    held = [e for e in examples if _bucket(e.text, seed) < fraction]
    kept = [e for e in examples if _bucket(e.text, seed) >= fraction]
    return kept, held


def folds(examples: list[Example], k: int = 10, seed: int = 0) -> list[list[Example]]:
    """Split examples into ``k`` folds by a hash of the text (for cross-validation)."""
    if k < 2:
        raise ValueError(f"k must be 2 or more, not {k}")
    parts: list[list[Example]] = [[] for _ in range(k)]
    for example in examples:
        parts[int(_bucket(example.text, seed) * k)].append(example)
    return parts
