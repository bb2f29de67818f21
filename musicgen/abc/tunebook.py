"""Split ABC tunebooks into tunes and normalise each tune.

A tunebook is split on ``X:`` lines. Each tune keeps only the fields that
shape the music (X, T, M, L, Q, R, P, K and the body) and its origin
(``O:``, kept aside to tell its style); commentary fields (N, Z, B, O, S,
H, C, A, D, F, G, I, W and the like), comments and lyrics are dropped from
its text. The control codes a model learns (``N:`` form, ``O:`` style; see
:mod:`musicgen.abc.codes`) are written into a tune by that module, never
read from a tunebook. Bad tunes never sink the book: :func:`parse_tunebook` returns
``(tunes, skipped)`` and every skipped tune carries its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.errors import MusicgenError
from musicgen.limits import MAX_TUNE_CHARS

#: Header fields kept from a tunebook.
KEPT_FIELDS = ("T", "R", "M", "L", "Q", "P", "K")
#: Header fields in the order a model learns and writes them (K last): the control codes
#: (:mod:`musicgen.abc.codes`: ``N:`` form, ``O:`` style) first, so the common requests
#: force a tune's first lines and need no drafts of lines before them.
HEADER_ORDER = ("N", "O", *KEPT_FIELDS)
#: Fields that may also appear inside the body (as a line or inline).
BODY_FIELDS = frozenset("MLQPK")

_FIELD_LINE = re.compile(r"^([A-Za-z+]):(.*)$")
_TUNE_START = re.compile(r"^X:", re.MULTILINE)
_DOS_LETTERS = {code: bytes([code]).decode("cp850") for code in range(0x80, 0xA0)}
_INLINE_FIELD = re.compile(r"\[([A-Za-z]):[^\]\n]*\]")
#: The %%MIDI directives kept (the accompaniment's pattern and instruments), with their value.
_MIDI_DIRECTIVE = re.compile(r"%%MIDI\s+(gchord|chordprog|bassprog)\s+([^%\s]{1,64})\s*(?:%.*)?$")


@dataclass
class Tune:
    """One normalised tune.

    Attributes:
        number: the tune's X: reference number.
        fields: header fields by letter (single value each, K last when written).
        body: the music lines after K:, joined by newlines.
        source: where it came from (file name or collection), for reports.
        origin: the tunebook's ``O:`` field (where the tune was collected), or
            an empty string; it tells the tune's style, and is not in its text.
        midi: the accompaniment's ``%%MIDI`` directives (``gchord``,
            ``chordprog``, ``bassprog``) by name, the last written winning;
            they apply to the whole tune and are not in its text.
    """

    number: int
    fields: dict[str, str]
    body: str
    source: str = ""
    origin: str = ""
    midi: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The tune's title, or an empty string."""
        return self.fields.get("T", "")

    @property
    def key(self) -> str:
        """The K: field's value."""
        return self.fields.get("K", "")

    def header_text(self) -> str:
        """Header lines without X:, in :data:`HEADER_ORDER`."""
        return "".join(f"{letter}:{self.fields[letter]}\n" for letter in HEADER_ORDER if letter in self.fields)

    @property
    def text(self) -> str:
        """The tune without its X: line: what the language model learns."""
        return self.header_text() + self.body + "\n"

    @property
    def abc(self) -> str:
        """The whole tune as standard ABC, X: first, T: second, K: last."""
        title = f"T:{self.fields['T']}\n" if "T" in self.fields else ""
        rest = "".join(f"{k}:{self.fields[k]}\n" for k in HEADER_ORDER if k in self.fields and k != "T")
        midi = "".join(f"%%MIDI {name} {value}\n" for name, value in self.midi.items())
        return f"X:{self.number}\n{title}{rest}{midi}{self.body}\n"

    def __repr__(self) -> str:
        return f"Tune(number={self.number}, title={self.title!r}, source={self.source!r})"


@dataclass
class Skipped:
    """A tune left out of a tunebook, and why."""

    source: str
    number: str
    title: str
    reason: str

    def __str__(self) -> str:
        name = f"{self.source or 'tune'} X:{self.number}"
        if self.title:
            name += f" ({self.title})"
        return f"{name}: {self.reason}"


@dataclass
class _Draft:
    number: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    voices: bool = False
    origin: str = ""
    size: int = 0  # characters from X: to the blank line that ends the tune
    midi: dict[str, str] = field(default_factory=dict)
    voice_lines: list[str] = field(default_factory=list)


def decode_abc(data: bytes) -> str:
    """Decode ABC bytes as UTF-8, falling back to latin-1 (never fails).

    Old tunebooks from DOS (some of the Essen collection) wrote umlauts in
    code page 850; converted later, they appear as control characters
    U+0080-U+009F, which are read back as the code page 850 letters.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.translate(_DOS_LETTERS)
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_abc_file(path: Path) -> str:
    """The text of an ABC file (see :func:`decode_abc`), refusing what is not a bounded regular file.

    Raises:
        CorpusError: missing, a folder, a FIFO or device, larger than
            :data:`musicgen.limits.MAX_ABC_FILE_BYTES`, or unreadable.
    """
    from musicgen.errors import CorpusError
    from musicgen.limits import MAX_ABC_FILE_BYTES, read_bounded

    try:
        return decode_abc(read_bounded(Path(path), MAX_ABC_FILE_BYTES, "tunebook"))
    except CorpusError:
        raise
    except MusicgenError as error:
        raise CorpusError(str(error)) from None


def default_unit_length(meter: str) -> str:
    """ABC's default L: for a meter: 1/16 below 3/4, else 1/8."""
    value = meter.strip()
    if value in ("C", "C|"):
        return "1/8"
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    if not match or int(match.group(2)) == 0:
        return "1/8"
    return "1/16" if int(match.group(1)) / int(match.group(2)) < 0.75 else "1/8"


def _strip_comment(line: str) -> str:
    """Drop a trailing ``%`` comment (``\\%`` is a literal percent sign)."""
    index = line.find("%")
    while index > 0 and line[index - 1] == "\\":
        index = line.find("%", index + 1)
    return line if index < 0 else line[:index]


_COMMON_TIME = {"C": "4/4", "C|": "2/2"}


def _clean_value(value: str) -> str:
    return " ".join(value.split())


def _clean_field(letter: str, value: str) -> str:
    """A field's value with spaces folded; M:C and M:C| as 4/4 and 2/2; R: in lower case."""
    value = _clean_value(value)
    if letter == "R":
        return value.lower()
    return _COMMON_TIME.get(value, value) if letter == "M" else value


def _read_header(draft: _Draft, letter: str, value: str) -> None:
    if letter == "V":
        draft.voices = True
        if value.split():
            draft.voice_lines.append(f"V:{_clean_value(value)[:200]}")  # name, clef...: kept atop the body
    elif letter == "O" and not draft.origin:
        draft.origin = _clean_value(value)
    elif letter in KEPT_FIELDS and letter not in draft.fields:
        draft.fields[letter] = _clean_field(letter, value)


def _read_body_line(draft: _Draft, line: str) -> None:
    match = _FIELD_LINE.match(line)
    # "A:|" is a note followed by a repeat, not an A: field.
    if match and not (match.group(1) in "ABCDEFGabcdefg" and match.group(2)[:1] in ("|", ":", "]")):
        letter = match.group(1)
        if letter == "V":
            draft.voices = True
            if match.group(2).split():
                draft.body.append(f"V:{_clean_value(match.group(2))[:200]}")  # the voice the lines below are in
        elif letter in BODY_FIELDS:
            draft.body.append(f"{letter}:{_clean_field(letter, match.group(2))}")
        return  # W:, w:, N: and other commentary inside the body is dropped
    if "[V:" in line:
        draft.voices = True
    draft.body.append(line.replace("\t", " "))


def _draft_tune(chunk: str) -> _Draft:
    draft = _Draft()
    lines = chunk.split("\n")
    draft.number = lines[0][2:].strip()
    draft.size = len(chunk)
    in_body, offset = False, len(lines[0])
    for raw in lines[1:]:
        offset += len(raw) + 1
        if not raw.strip():
            if in_body:
                draft.size = offset
                break  # an empty line ends the tune (ABC 2.1 section 2.2)
            continue
        directive = _MIDI_DIRECTIVE.match(raw)
        if directive:
            draft.midi[directive.group(1)] = directive.group(2)
            continue
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue  # a comment line
        if in_body:
            _read_body_line(draft, line)
            continue
        match = _FIELD_LINE.match(line.strip())
        if match:
            _read_header(draft, match.group(1), match.group(2))
            in_body = match.group(1) == "K"
        elif "K" in draft.fields:
            in_body = True
            _read_body_line(draft, line)
    return draft


# Repairs for habits of old transcriptions that ABC players reject. Each keeps
# the notes (pitch, onset and length) as written; see tests/test_tunebook.py.
_DECORATION = r"(?:[~.uvHTJLMPSOR]|![^!\n]*!)"
_NOTE = r"[_^=]*[A-Ga-g][,']*"
_CHORD = re.compile(r"\(?[A-G][#b]?(?:m|min|maj|dim|aug|sus|add|M|[0-9]|\+|-|°|ø|\(|\)|#|b)*(?:/[A-Ga-g][#b]?)?\)?")
_REPAIRS = (
    # Ryan's "k" (a bowing mark no player knows) before a note: "vkg2" plays as "vg2".
    (re.compile(r"(?<![A-Za-tw-z])k(?=[~.uvHT(\[]*[_^=]*[A-Ga-gz])"), ""),
    # A bar line drawn as an invisible bar "[|]", with its decoration.
    (re.compile(_DECORATION + r"*\[\|\]"), ""),
    # A decoration on a bar line ("H:|") has no note to decorate.
    (re.compile(r"[~.HTuvSO]+(?=:*\|)"), ""),
    # A decoration written before a slur opens: "~(dcd)" means "(~dcd)".
    (re.compile(r"(" + _DECORATION + r"+)\((?![0-9])"), r"(\1"),
    # A decoration written before a tuplet: "v(3ABA" means "(3vABA".
    (re.compile(r"(" + _DECORATION + r"+)(\([0-9](?::[0-9]*){0,2})"), r"\2\1"),
    # A decoration before a chord symbol or annotation: 'u"4"e' means '"4"ue'.
    (re.compile(r"(" + _DECORATION + r"+)(\"[^\"\n]*\")"), r"\2\1"),
    # A chord symbol inside a broken rhythm: 'c"0"<A' means 'c<"0"A'.
    (re.compile(r"(\"[^\"\n]*\")([<>]+)"), r"\2\1"),
    # A slur that ends after a broken-rhythm mark: "A>)B" means "A)>B".
    (re.compile(r"([<>]+)\)"), r")\1"),
    # A staccato dot or a tie mark touching a broken-rhythm mark: "a.>f", "G>-A".
    (re.compile(r"\.+(?=[<>])"), ""),
    (re.compile(r"(?<=[<>])-"), ""),
    # A staccato dot after a broken-rhythm mark: "A>.B" plays as "A>B".
    (re.compile(r"([<>]+(?:\"[^\"\n]*\")*)\.+"), r"\1"),
)
_FALSE_TIE = re.compile(r"(" + _NOTE + r")([\d/]*)-(?=[\s.~()|<>]*(" + _NOTE + r"))")
_QUOTED = re.compile(r'"([^"\n]*)"')
_PLUS_BASS = re.compile(r"/([A-Ga-g])\+(?=\)?\s*$)")


def _annotate(match: re.Match) -> str:
    """A quoted text that is no chord name ("D.C.", "4", "ff") is an annotation.

    A ``+`` after a chord's bass note is the Nottingham Music Database's sharp
    (``"D/f+"`` under an F sharp in D major): it is written ``#``.
    """
    text = _PLUS_BASS.sub(r"/\1#", match.group(1))
    if not text or text[0] in "^_<>@" or _CHORD.fullmatch(text.strip()):
        return f'"{text}"'
    return f'"^{text}"'


def _untie(match: re.Match) -> str:
    """Drop a tie between two different pitches (a slur mark in old books)."""
    first = match.group(1).lstrip("_^=")
    second = match.group(3).lstrip("_^=")
    return match.group(0) if first == second else match.group(1) + match.group(2)


def _repair_music(body: str) -> str:
    """:func:`repair_body` on the music, leaving ``V:`` lines (names in quotes, clefs) as written."""
    kept = re.findall(r"^V:.*$", body, flags=re.MULTILINE)
    if not kept:
        return repair_body(body)
    marked = iter(kept)
    body = re.sub(r"^V:.*$", "\ue1ff", body, flags=re.MULTILINE)
    return re.sub("\ue1ff", lambda _: next(marked), repair_body(body))


def repair_body(body: str) -> str:
    """Rewrite notation that ABC players reject into its standard form."""
    # Quoted texts are set aside as placeholders, so the repairs never look inside them.
    quoted: list[str] = []

    def set_aside(match: re.Match) -> str:
        quoted.append(_annotate(match))
        return f'"{chr(0xE000 + len(quoted) - 1)}"'

    body = _QUOTED.sub(set_aside, body)
    for pattern, replacement in _REPAIRS:
        body = pattern.sub(replacement, body)
    body = _FALSE_TIE.sub(_untie, body)
    return re.sub('"([\ue000-\uf8ff])"', lambda m: quoted[ord(m.group(1)) - 0xE000], body)


def _finish(draft: _Draft, source: str, voices: bool = False) -> Tune | Skipped:
    title = draft.fields.get("T", "")

    def skip(reason: str) -> Skipped:
        return Skipped(source, draft.number, title, reason)

    if "K" not in draft.fields:
        return skip("no K: field")
    body = _repair_music("\n".join(draft.voice_lines + draft.body).strip("\n"))
    if not re.search(r"[A-Ga-g]", _INLINE_FIELD.sub("", body)):
        return skip("no notes in the body")
    if draft.voices and not voices:
        return skip("several voices (V:): a model learns one melody (convert and play read them)")
    music = "\n".join(line for line in body.split("\n") if not line.startswith("V:"))
    if DETACHED_LENGTH.search(_QUOTED.sub("", music)):
        return skip("a note length is detached from its note by a space (G 2, folk-rnn's tokens): write G2")
    if "L" not in draft.fields:
        draft.fields["L"] = default_unit_length(draft.fields.get("M", ""))
    try:
        number = int(re.match(r"\d*", draft.number).group() or 0)  # type: ignore[union-attr]  # \d* always matches
    except AttributeError:
        number = 0
    fields = {k: draft.fields[k] for k in KEPT_FIELDS if k in draft.fields}
    return Tune(number=number, fields=fields, body=body, source=source, origin=draft.origin, midi=draft.midi)


#: A note or rest, then spaces, then a digit: a length written apart from its note (abc2midi reports it;
#: musicgen's reader would drop it). Not a tuplet ``(3``, an ending ``[1``/``|1`` or a ``:|2``; chord
#: symbols and annotations (which may hold digits) are set aside first.
DETACHED_LENGTH = re.compile(r"(?<![\[|(:])[A-Ga-gzx][,']*[ \t]+\d")


def parse_tunebook(text: str, source: str = "", voices: bool = False) -> tuple[list[Tune], list[Skipped]]:
    """Split a tunebook's text into normalised tunes.

    Args:
        text: the tunebook as text (see :func:`decode_abc` for bytes).
        source: a name for reports, such as the file name.
        voices: keep tunes of several voices (``V:``), with their ``V:``
            lines in the body; without it they are skipped, as a corpus for
            a model of one melody needs.

    Returns:
        ``(tunes, skipped)``: the usable tunes in book order, and every tune
        left out with its reason. Exact duplicates are not removed here (see
        :func:`musicgen.abc.corpus.load_corpus`).
    """
    tunes: list[Tune] = []
    skipped: list[Skipped] = []
    starts = [m.start() for m in _TUNE_START.finditer(text)]
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        draft = _draft_tune(text[begin : min(end, begin + MAX_TUNE_CHARS + 1)])
        result: Tune | Skipped
        if draft.size > MAX_TUNE_CHARS:
            result = Skipped(
                source, draft.number, draft.fields.get("T", ""), f"longer than {MAX_TUNE_CHARS:,} characters"
            )
        else:
            result = _finish(draft, source, voices)
        if isinstance(result, Tune):
            tunes.append(result)
        else:
            skipped.append(result)
    return tunes, skipped


def parse_tune(text: str, source: str = "", voices: bool = False) -> Tune:
    """Parse and normalise one tune, raising if it is unusable.

    A text without an ``X:`` line is read as a single tune numbered 1.

    Raises:
        CorpusError: the text holds no usable tune; the message says why.
    """
    from musicgen.errors import CorpusError

    if not text.strip():
        raise CorpusError(f"{source or 'input'}: no tune found (the text is empty)")
    if not _TUNE_START.search(text):
        text = "X:1\n" + text.lstrip("\n")
    tunes, skipped = parse_tunebook(text, source, voices)
    if tunes:
        return tunes[0]
    if skipped:
        raise CorpusError(str(skipped[0]))
    raise CorpusError(f"{source or 'input'}: no tune found")
