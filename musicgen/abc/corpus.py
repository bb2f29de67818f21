"""Assemble a corpus of normalised tunes and split it for training.

The default corpus is the folk music that music21 ships in ABC (see
``corpora/README.md``). Users may pass their own ``.abc`` files or folders.
Tunes are split into train, validation and test by a hash of their text, so
a tune keeps its split however the corpus around it changes.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.abc.codes import style_of, with_codes
from musicgen.abc.tunebook import Skipped, Tune, parse_tunebook, read_abc_file
from musicgen.errors import CorpusError
from musicgen.extras import need

logger = logging.getLogger(__name__)

#: music21 corpus folders that make up the default corpus.
DEFAULT_COLLECTIONS = ("oneills1850", "ryansMammoth", "airdsAirs", "essenFolksong", "miscFolk")
#: Percentages of tunes in each split (by hash of the tune's text).
SPLIT_PERCENT = {"train": 90, "valid": 5, "test": 5}
ABC_SUFFIXES = (".abc",)


@dataclass
class Corpus:
    """Normalised tunes with what was skipped on the way.

    Attributes:
        tunes: usable tunes, duplicates removed, in load order.
        skipped: every tune left out, with its reason.
        collections: for each tune, the collection (top folder) it came from.
    """

    tunes: list[Tune]
    skipped: list[Skipped] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Tune]:
        """The tunes of one split: ``train``, ``valid`` or ``test``."""
        if name not in SPLIT_PERCENT:
            raise ValueError(f"split must be one of {', '.join(SPLIT_PERCENT)}, not {name!r}")
        return [tune for tune in self.tunes if split_of(tune) == name]

    def coded(self, name: str | None = None) -> list[Tune]:
        """All tunes, or one split's, with their form and style codes written in (what a model learns).

        The split is that of the tune as read (:func:`split_of`), so codes never move a tune between splits.
        """
        collections = self.collections + [""] * (len(self.tunes) - len(self.collections))
        return [
            with_codes(tune, style_of(tune.origin, collection, tune.source))
            for tune, collection in zip(self.tunes, collections)
            if name is None or split_of(tune) == name
        ]

    def texts(self, split: str | None = None) -> list[str]:
        """Training texts (codes written in) of all tunes, or of one split."""
        return [tune.text for tune in self.coded(split)]

    def skip_reasons(self) -> Counter:
        """How many tunes were skipped for each reason."""
        return Counter(item.reason.split(" (")[0] for item in self.skipped)

    def __repr__(self) -> str:
        return f"Corpus({len(self.tunes)} tunes, {len(self.skipped)} skipped)"


def split_of(tune: Tune) -> str:
    """The split a tune belongs to, fixed by a hash of its text."""
    bucket = int(hashlib.sha1(tune.text.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < SPLIT_PERCENT["train"]:
        return "train"
    if bucket < SPLIT_PERCENT["train"] + SPLIT_PERCENT["valid"]:
        return "valid"
    return "test"


def music21_corpus_dir() -> Path:
    """The folder where music21 keeps its bundled corpus."""
    music21 = need("music21")

    return Path(str(music21.__file__)).parent / "corpus"


def default_sources() -> list[Path]:
    """The music21 collections that form the default corpus."""
    root = music21_corpus_dir()
    return [root / name for name in DEFAULT_COLLECTIONS]


def abc_files(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Every ``.abc`` file under the paths, as ``(root, file)`` pairs, sorted.

    Raises:
        CorpusError: a path does not exist, or no ABC file is found.
    """
    found: list[tuple[Path, Path]] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += [(path, f) for f in sorted(path.rglob("*")) if f.suffix.lower() in ABC_SUFFIXES]
        elif path.is_file():
            found.append((path, path))
        else:
            raise CorpusError(f"{path}: no such file or folder")
    if not found:
        raise CorpusError(f"no .abc files found in {', '.join(map(str, paths))}")
    return found


def load_corpus(paths: list[Path] | None = None) -> Corpus:
    """Load, normalise and de-duplicate the tunes in files or folders.

    Args:
        paths: ``.abc`` files or folders searched recursively; None loads the
            default corpus from music21.

    Returns:
        A :class:`Corpus`; exact duplicates (same normalised text) are skipped
        with the reason naming the first copy.

    Raises:
        CorpusError: a path is missing, unreadable, or no usable tune is found.
    """
    files = abc_files(list(paths) if paths else default_sources())
    corpus = Corpus(tunes=[])
    first_copy: dict[str, str] = {}
    for root, path in files:
        text = read_abc_file(path)
        source = path.name if root == path else f"{root.name}/{path.relative_to(root)}"
        tunes, skipped = parse_tunebook(text, source)
        corpus.skipped += skipped
        for tune in tunes:
            earlier = first_copy.get(tune.text)
            if earlier is not None:
                corpus.skipped.append(Skipped(source, str(tune.number), tune.title, f"duplicate (of {earlier})"))
                continue
            first_copy[tune.text] = f"{source} X:{tune.number}"
            corpus.tunes.append(tune)
            corpus.collections.append(root.name)
    for item in corpus.skipped:
        logger.info("skipped %s", item)
    if not corpus.tunes:
        raise CorpusError(f"no usable tune in {len(files)} file(s): " + _reason_summary(corpus))
    return corpus


def _reason_summary(corpus: Corpus) -> str:
    reasons = corpus.skip_reasons()
    return ", ".join(f"{count} {reason}" for reason, count in reasons.most_common()) or "empty"
