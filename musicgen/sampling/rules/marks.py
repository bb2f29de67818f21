"""Rules on the marks in a tune's music: spaces, chords, texts, decorations and inline fields closed,
and no sign without a note to belong to."""

from __future__ import annotations

import functools
import string
from typing import TYPE_CHECKING

from musicgen.model.vocab import END
from musicgen.sampling.facts import (
    COLON_NUMBER,
    DECORATION_SIGNS,
    LOOSE_DECORATION,
    NOT_IN_CHORD_CHARS,
    STRAY_SIGN,
    TUPLET_SPEC,
    UNREAD_SIGNS,
)
from musicgen.sampling.rules.base import ACCIDENTALS, NOTE_CHARS, NOTE_LETTERS, Rule

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

#: Spaces and backquotes a tune's body may write in a row.
SPACER_RUN = 2


class Spacing(Rule):
    """No run of more than :data:`SPACER_RUN` spacers (spaces and backquotes) in the body.

    A run of spacers sets notes apart no differently than one does (abc2midi
    and abcm2ps read it as one), but some training tunes align their bars in
    columns with runs of 6 to 40, and a model that starts doing so loses its
    bars: in 64 tunes at the CLI's defaults (seed 1) the tunes that took the
    longest to finish had bars of 100 characters and more, mostly spaces,
    drawn again and again.
    """

    name = "spacing"

    def __init__(self, body: str | None = None):
        self.run = 0
        for char in body or "":
            self.advance(char)

    def advance(self, char: str) -> None:
        self.run = self.run + 1 if char in " `" else 0

    def banned(self, stream: Stream) -> str:
        return " `" if self.run >= SPACER_RUN else ""

    def snapshot(self) -> int:
        return self.run

    def restore(self, snapshot: int) -> None:
        self.run = snapshot


#: Characters a chord's, a text's or an inline field's insides may run to before only its close may come.
OPEN_SPAN_LIMIT = {"chord": 12, "text": 40, "field": 20, "!": 15, "+": 15}
#: What may not come inside each: where a chord holds what abc2midi refuses there
#: (:data:`~musicgen.sampling.facts.NOT_IN_CHORD`), and where any of them would be left open
#: (a line break, the end) or its close would be taken for its own (a ``]`` in a text is kept).
NOT_INSIDE = {
    "chord": NOT_IN_CHORD_CHARS + "\n\\!:" + END,
    "text": "\n" + END,
    "field": "\n|[" + END,
    "!": ' \n|[]"' + END,  # a decoration's name (!trill!, +trill+) is one word
    "+": ' \n|[]"' + END,
}


#: What a text begins with for abc2midi: a chord's letter, or an annotation's place (``^`` above, ``_``
#: below, ``<`` left, ``>`` right, ``@`` anywhere); else "Guitar chord does not start with A-G or a-g".
TEXT_STARTS = "ABCDEFGabcdefg^_<>@"


class OpenMarks(Rule):
    """A chord (``[ceg]``), a text (``"Am"``, ``"^D.C."``), a decoration (``!trill!``, ``+trill+``) or an
    inline field (``[K:D]``) is closed on the line it opens, within :data:`OPEN_SPAN_LIMIT` characters;
    a chord holds nothing abc2midi refuses in one (:data:`NOT_INSIDE`), and a text begins as abc2midi
    reads one (:data:`TEXT_STARTS`); no ``]`` closes what was not opened (one after ``|`` is the ``|]``
    bar line).

    The bar verifier sends such bars back (the ``open marks``, ``chord contents`` and ``stray signs``
    facts); without it (``--bar-tries 0``) they were the commonest abc2midi errors: a chord left open
    runs over its bar lines ("Too many notes in chord") in 11 of the 34 faulty tunes of 200 (seed 1).
    """

    name = "open_marks"

    def __init__(self, body: str | None = None):
        # "chord", "text", "field" (inline), "!" or "+" (a decoration), "[" (a [ whose meaning its next
        # character tells), "line" (a field line or a comment, left alone to its end), or "" (music)
        self.mode = ""
        self.inside = 0  # characters inside the chord, text or field so far
        self.last, self.line_start = "\n", False
        for char in body or "":
            self.advance(char)

    def advance(self, char: str) -> None:
        mode = self.mode
        if mode == "line":
            self.mode = "" if char == "\n" else "line"
        elif mode == "[":
            self.mode = "chord" if char in NOTE_LETTERS or char in "^=_" else "field" if char.isalpha() else ""
            self.inside = 0
        elif mode in ("chord", "field") and char == "]" or mode == "text" and char == '"' or char == mode:
            self.mode = ""
        elif mode:
            self.inside += 1
        elif char == "%" or char == ":" and self.last in self.FIELD_LETTERS and self.line_start:
            self.mode = "line"
        elif char == '"':
            self.mode, self.inside = "text", 0
        elif char in "!+":
            self.mode, self.inside = char, 0
        elif char == "[":
            self.mode = "["
        self.line_start = self.last == "\n"  # whether this character began its line
        self.last = char

    #: Letters that begin a field line in the body (``P:B``, ``W:...``): none that is a note or a rest.
    FIELD_LETTERS = frozenset(string.ascii_letters) - NOTE_LETTERS - frozenset("zxZX")

    def banned(self, stream: Stream) -> str:
        if stream.in_header:
            return ""
        if self.mode in NOT_INSIDE:
            return NOT_INSIDE[self.mode]
        if self.mode == "[":
            return "]\n" + END
        return "]" if self.mode == "" and self.last != "|" else ""

    def allowed(self, stream: Stream) -> str | None:
        if stream.in_header:
            return None
        if self.mode in OPEN_SPAN_LIMIT and self.inside >= OPEN_SPAN_LIMIT[self.mode]:
            return {"text": '"', "!": "!", "+": "+"}.get(self.mode, "]")
        if self.mode == "text" and self.inside == 0 and self.last == '"':
            return TEXT_STARTS
        return None

    def snapshot(self) -> tuple[str, int, str, bool]:
        return self.mode, self.inside, self.last, self.line_start

    def restore(self, snapshot: tuple[str, int, str, bool]) -> None:
        self.mode, self.inside, self.last, self.line_start = snapshot


class MusicReader:
    """Which characters of a tune's body are music, as :func:`~musicgen.sampling.facts.malformed_bar` reads
    them: an :class:`OpenMarks` follows texts, decorations, chords, inline fields, field lines and comments,
    and the reader follows grace notes (``{...}``) besides. The rules that judge the music itself
    (:class:`StraySigns`, :class:`~musicgen.sampling.rules.rhythm.BrokenRhythm`) read the body through one.
    """

    def __init__(self) -> None:
        self.marks = OpenMarks()
        self.grace = False  # inside grace notes

    def follow(self, char: str) -> tuple[str, str, bool]:
        """Follow one character: the :class:`OpenMarks` mode before and after it, and whether it belongs to
        grace notes (their ``{`` and ``}`` included)."""
        before = self.marks.mode
        self.marks.advance(char)
        after = self.marks.mode
        in_grace = self.grace or (char == "{" and not before and not after)
        self.grace = in_grace and char != "}"
        return before, after, in_grace

    @property
    def in_music(self) -> bool:
        """Whether the next character is read as music (not inside a text, mark, field or grace notes)."""
        return not (self.marks.mode or self.grace)

    def snapshot(self) -> tuple:
        return self.marks.snapshot(), self.grace

    def restore(self, snapshot: tuple) -> None:
        marks, self.grace = snapshot
        self.marks.restore(marks)


#: Characters :class:`StraySigns` judges: lengths, slashes, octave marks and signs abc2midi does not read.
#: (A ``\\`` is judged by what follows it, and a ``]`` by :class:`OpenMarks`.)
STRAY_CANDIDATES = string.digits + "/,'" + "".join(char for char in string.punctuation if UNREAD_SIGNS.fullmatch(char))
#: Music characters :class:`StraySigns` keeps: enough for a tuplet's ``(3:2:`` before a number.
STRAY_TAIL = 8


@functools.lru_cache(maxsize=65_536)
def stray_after(tail: str) -> str:
    """What of :data:`STRAY_CANDIDATES` would be a stray sign after the music ``tail``: a match of
    :data:`~musicgen.sampling.facts.STRAY_SIGN`, :data:`~musicgen.sampling.facts.UNREAD_SIGNS` or
    :data:`~musicgen.sampling.facts.COLON_NUMBER` (tuplets' colons taken out) that ends at the sign.

    >>> stray_after("d2 ")[:4], stray_after("G")
    ('0123', "'#*;?@")
    """
    banned = []
    for char in STRAY_CANDIDATES:
        music = tail + char
        ends = len(music)
        colons = TUPLET_SPEC.sub("(", music)
        if (
            any(found.end() == ends for found in STRAY_SIGN.finditer(music))
            or UNREAD_SIGNS.fullmatch(char)
            or any(found.end() == len(colons) for found in COLON_NUMBER.finditer(colons))
        ):
            banned.append(char)
    return "".join(banned)


@functools.cache
def note_after(sign: str) -> str:
    """What may follow a one-character decoration (``~``, ``T``, ``.``...) in the music: what keeps it from
    matching :data:`~musicgen.sampling.facts.LOOSE_DECORATION` ("Malformed note" to abc2midi).

    >>> "A" in note_after("T"), " " in note_after("T"), "[" in note_after("T"), "[" in note_after(".")
    (True, False, False, True)
    """
    return "".join(char for char in string.printable if not LOOSE_DECORATION.match(sign + char))


class StraySigns(Rule):
    """No length, slash, octave mark, accidental or one-character decoration without a note to belong to,
    and no sign abc2midi does not read in the music: the ``stray signs``, ``repeat numbers``, ``loose
    accidentals``, ``loose decorations`` and ``unread signs`` facts
    (:mod:`musicgen.sampling.facts`), judged before each character as the bar verifier judges a whole bar
    after it. The music is read as :func:`~musicgen.sampling.facts.malformed_bar` reads it: texts,
    decorations, grace notes, inline fields, field lines and comments as a space, a chord as its ``[``.

    Without the verifier (``--bar-tries 0``), such signs were half the abc2midi errors left: a length
    after a space, a slur or a broken rhythm (``d2 2``, ``(fd) 2``) in 13 of 26 faulty tunes of 200 (seed 1).
    """

    name = "stray_signs"

    def __init__(self, body: str | None = None):
        self.reader = MusicReader()
        self.tail = "\n"  # the music so far, its last STRAY_TAIL characters
        for char in body or "":
            self.advance(char)

    def advance(self, char: str) -> None:
        before, after, in_grace = self.reader.follow(char)
        if in_grace:
            pushed = "" if self.reader.grace else " "  # grace notes read as a space once closed
        elif before == "chord" and after == "":
            pushed = "["  # the chord's ] (a chord is read as its [)
        elif before == "[":
            pushed = "" if after in ("chord", "field") else "[" + char  # an ending [1 or [| is music
        elif before or after == "line":
            pushed = " " if after == "" else ""  # a text, decoration, field or comment reads as a space
        elif after:
            pushed = ""  # one opens: its close pushes what it reads as
        else:
            pushed = char
        if pushed:
            self.tail = (self.tail + pushed)[-STRAY_TAIL:]

    def banned(self, stream: Stream) -> str:
        if stream.in_header or not self.reader.in_music:
            return ""
        # the facts look two characters back, but for a number after a colon, which may be a tuplet's (3:2:
        return stray_after(self.tail if ":" in self.tail else self.tail[-2:])

    def allowed(self, stream: Stream) -> str | None:
        last = self.tail[-1]
        if stream.in_header or not self.reader.in_music:
            return None
        if last in ACCIDENTALS:
            double = last in "^_" and self.tail[-2] != last  # ^^ and __ are one accidental, not three
            return NOTE_CHARS + (last if double else "")
        if last in DECORATION_SIGNS:
            # the letter that begins a body line may begin a field line (P:B) instead
            return note_after(last) + (":" if self.reader.marks.line_start else "")
        return None

    def snapshot(self) -> tuple:
        return self.reader.snapshot(), self.tail

    def restore(self, snapshot: tuple) -> None:
        reader, self.tail = snapshot
        self.reader.restore(reader)
