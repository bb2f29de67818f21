"""One tune being written inside a sampled batch: its text, the header lines forced into it, its rules and bars.

A :class:`Stream` follows what its tune has written (header or body, the
line being written, its ``M:``, ``L:`` and ``K:`` fields, whether it is a
hornpipe), writes the header lines the user fixed when the model reaches
them (:meth:`Stream.choose`), asks its rules (:mod:`musicgen.sampling.rules`)
what may come next, and lets its bar verifier (:mod:`musicgen.sampling.bars`)
send it back to a bar's start. :mod:`musicgen.sampling.decoder` drives a
batch of them.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter, deque

from musicgen.abc.codes import FORM_FIELD, read_form_code, too_short_for
from musicgen.abc.melody import read_bar
from musicgen.abc.position import NO_POSITION, FormClock, header_fields
from musicgen.abc.tunebook import HEADER_ORDER
from musicgen.errors import ConversionError
from musicgen.sampling.bars import Bars
from musicgen.sampling.echo import Echo
from musicgen.sampling.facts import (
    HORNPIPE_LINE,
    HORNPIPE_METERS,
    abc2midi_refuses,
    malformed_bars,
    parts_defined,
)
from musicgen.sampling.rules import RULES, FormEnd, HornpipeMeter, Rule, make_rules

#: A header's ``P:`` line: the order its parts are played in.
HEADER_PARTS = re.compile(r"^P:([^\n]*)$", re.MULTILINE)

#: A whole K: line: where a header ends and the music begins.
KEY_LINE = re.compile(r"(?:^|\n)K:([^\n]*)\n")

#: Added to a header draft's log-weight when abc2midi would refuse it (a
#: hornpipe given a meter it is not played in), or when the form code the model drew for an asked
#: dance type is too short for one (``N:A 6`` for ``--type reel``): another draft is kept unless
#: every draft is like it.
UNPLAYABLE_WEIGHT = -1e4

#: Bars at the end of a tune held to a given ``N:`` form code (:func:`splits_late`) that its ending
#: drafts write each on their own: such a tune is written once up to its last ENDING_BARS bars, then
#: split into its drafts, which go on from there (see :meth:`Stream.split_due`).
ENDING_BARS = 4


def asks_form(prime: str, fixed: dict[str, str]) -> bool:
    """Whether a tune's form is asked for (by ``--form``, a prime's ``N:`` line, or an asked tune
    type ``R:`` whose form is drawn), not only written by the model as it pleases."""
    return "N" in fixed or "R" in fixed or bool(re.search(r"(?:^|\n)N:", prime))


def splits_late(prime: str, fixed: dict[str, str], rules: tuple[str, ...]) -> bool:
    """Whether a tune's ending drafts split off it for its last bars (:meth:`Stream.split_due`): the
    ``form_end`` rule holds it to a whole form code given before sampling (``--form`` with its bars,
    a prime's ``N:`` line). A code the model draws (for ``--type``, or ``--form`` without bars) is part
    of what its drafts differ in: the ending ranker keeps a draft that holds to its code, so such a
    tune is drafted whole (split after the code, ``--type reel`` kept two parts of 8 or 16 bars in
    80% of 50 tunes, against 92% drafted whole)."""
    given = fixed.get("N", "")
    whole_code = bool(given) and not given.endswith(" ")
    return FormEnd.name in rules and (whole_code or bool(re.search(r"(?:^|\n)N:[^\n]*\n", prime)))


def body_of(text: str) -> str | None:
    """A tune's text after its first ``K:`` line, or None if it has none yet."""
    header_end = KEY_LINE.search(text)
    return text[header_end.end() :] if header_end else None


class Stream:
    """One tune being written: its characters, the header lines still to force, its rules and bars.

    Args:
        prime: the text it starts with.
        fixed: header lines to force, by field letter.
        bar_tries: see :class:`~musicgen.model.config.SampleConfig`.
        rules: the names of the rules switched on (all by default).
        slot: the tune this stream is a draft of, in its batch.
        splits: ending drafts still to split off it (``end_drafts - 1``).
        echo: the model's echo weights (:mod:`musicgen.sampling.echo`), or None for no echo.
        positions: keep the tune's form position (:meth:`form_position`), for a model that reads it.

    ``log_weight`` sums, over the forced header lines, how likely the model
    found each one after what it had written itself (see
    :func:`musicgen.sampling.selectors.weigh`), plus :data:`UNPLAYABLE_WEIGHT`
    for a hornpipe given a meter abc2midi does not play one in, and for a form code
    too short for the dance asked (with the ``form_end`` rule).
    """

    def __init__(
        self,
        prime: str,
        fixed: dict[str, str],
        bar_tries: int = 0,
        rules: tuple[str, ...] = tuple(RULES),
        slot: int = 0,
        splits: int = 0,
        echo: tuple[float, ...] | None = None,
        positions: bool = False,
    ):
        self.chars: list[str] = list(prime)
        self.begun_with = (prime, dict(fixed), bar_tries, rules, echo, positions)
        self.positions = positions
        self.echo = Echo(echo) if echo else None
        self.slot, self.splits = slot, splits
        self.bar_lines = 0  # bar lines written in the body (a run such as ``:|`` or ``||`` counts once)
        # The form was asked for (by --form or a prime's N: line), or drawn for an asked tune type (R:),
        # not only written by the model as it pleased: the form_end rule holds the tune to it.
        self.form_asked = asks_form(prime, fixed)
        # A value ending in a space (``N:AABB ``) is a prefix: the model writes the rest of its line.
        self.pending = sorted(
            (HEADER_ORDER.index(k), f"{k}:{v}" + "\n" * (not v.endswith(" "))) for k, v in fixed.items()
        )
        self.forced: deque[str] = deque()
        body = body_of(prime)
        self.in_header = body is None
        self.rules: list[Rule] = make_rules(rules, body)
        self.weighs_hornpipes = any(isinstance(rule, HornpipeMeter) for rule in self.rules)
        self.form_end = next((rule for rule in self.rules if isinstance(rule, FormEnd)), None)
        self.line_start = len(prime) - len(prime.rsplit("\n", 1)[-1])  # where the line being written starts
        self.hornpipe = bool(HORNPIPE_LINE.search(prime))
        header = prime if body is None else prime[: len(prime) - len(body)]
        self.fields = header_fields(header)  # M, L, K, R: bar lengths (a prime's header lines too)
        self.clock: FormClock | None = None  # where the body stands in its form code, from the body's start
        if body is not None and positions:
            self.clock = FormClock(self.fields)
            for char in body:
                self.clock.advance(char)
        body_start = self.body_start = None if body is None else len(prime) - len(body)
        if body is not None and body_start is not None and "|" in body:
            body_start += body.rindex("|") + 1  # the bar being written starts after the prime's last bar line
        self.bars = Bars(body_start, bar_tries, "|" not in (body or ""))
        self.done = False
        self.restarting = False  # started again, lost: the decoder resumes it from where every tune begins
        self.log_weight = 0.0
        self.last_forced = False
        self.started_rank: int | None = None  # rank of the forced line begun on the last step
        self.end_log_prob = -math.inf  # the model's log-probability (temperature 1) of the end where it ended

    @property
    def text(self) -> str:
        return "".join(self.chars)

    @property
    def line(self) -> str:
        """The line being written, so far."""
        return "".join(self.chars[self.line_start :])

    @property
    def settled(self) -> bool:
        """No forced header line is still to come."""
        return self.done or (not self.forced and (not self.pending or not self.in_header))

    def choose(self, sampled: str) -> str:
        """The character to write next, given the one the model sampled."""
        self.started_rank = None
        self.last_forced = bool(self.forced)
        if self.forced:
            return self.forced.popleft()
        at_line_start = not self.chars or self.chars[-1] == "\n"
        if self.in_header and at_line_start and self.pending:
            rank = HEADER_ORDER.index(sampled) if sampled in HEADER_ORDER else len(HEADER_ORDER)
            if rank >= self.pending[0][0]:
                self.started_rank, line = self.pending.pop(0)
                unplayable = self.hornpipe and line.startswith("M:") and line[2:-1] not in HORNPIPE_METERS
                if unplayable and self.weighs_hornpipes:
                    self.log_weight += UNPLAYABLE_WEIGHT
                self.forced.extend(line)
                self.last_forced = True
                return self.forced.popleft()
        return sampled

    def banned(self) -> str:
        """Characters this tune may not write next (END for the end marker), by its rules."""
        banned = ""
        for rule in self.rules:
            banned += rule.banned(self)
        return banned

    def allowed(self) -> str | None:
        """The only characters this tune may write next, or None for no limit, by its rules."""
        for rule in self.rules:
            allowed = rule.allowed(self)
            if allowed is not None:
                return allowed
        return None

    def form_position(self) -> int:
        """Where the tune stands in its form code (:mod:`musicgen.abc.position`), kept where ``positions``
        was asked for (else :data:`~musicgen.abc.position.NO_POSITION`)."""
        return NO_POSITION if self.clock is None else self.clock.code()

    def echo_guess(self) -> tuple[float, Counter] | None:
        """The echo's weight and counts for the next character (:meth:`Echo.guess`), or None. In the
        tune's last bar by its form code (the ``form_end`` rule's) only bars that closed a part and end
        on the key's tonic are echoed: echoing every bar that closed a part, 554 of 600 tunes ended on
        the tonic, against 566 with the tonic ones only and 579 without the echo (seeds 1-3)."""
        if self.echo is None or self.in_header:
            return None
        closing = self.form_end is not None and self.form_end.closes_tune(self)
        return self.echo.guess(self.chars, self.body_start, self.bars.start, closing, self.fields)

    def split_due(self) -> bool:
        """Whether this tune's ending drafts split off it now: past its header, with
        :data:`ENDING_BARS` bars or fewer left to write by its ``N:`` code (at once without one).

        Only a tune held to a code given before sampling is given drafts to split off (see
        :func:`splits_late`): a model left to itself often ends long before or after its code's bars,
        and one that draws its code has drafts that differ in it, so other tunes are drafted whole.
        """
        if not self.splits or self.in_header or self.done:
            return False
        code = read_form_code(self.fields.get(FORM_FIELD, ""))
        return code is None or self.bar_lines >= sum(code[1]) - ENDING_BARS

    def retake_due(self) -> str | None:
        """Where this tune goes back to as it splits, when what its drafts split from here would all
        share has what abc2midi reports as an error: ``"tune"``, its start, for a part the header's
        ``P:`` plays that the body so far does not define, or a header whose key, meter or note length
        does not read (``K:G Nixolydian``); ``"body"``, its body's first bar, for a bar
        abc2midi refuses (one that stood once its redraws ran out, or what the reader warns of across
        bar lines: a tie to another pitch, a broken rhythm over a tuplet's last note). None: it splits
        where it stands (also where bars are never drawn again, so no body's start was kept)."""
        text = self.text
        body = body_of(text) or ""
        header = text[: len(text) - len(body)]
        order = HEADER_PARTS.findall(header)
        if not parts_defined(order[-1] if order else "", body):
            return "tune"
        fields = header_fields(header)
        try:
            read_bar(fields, "")
        except ConversionError:
            return "tune"
        if self.bars.body_resume is None:
            return None
        if self.bars.unsound or malformed_bars(body):
            return "body"
        try:
            warnings = read_bar(fields, body)[2]
        except ConversionError:
            return "body"
        return "body" if any(abc2midi_refuses(warning) for warning in warnings) else None

    def restarted(self, lost: bool = False) -> Stream:
        """A new stream for this tune, as it was before it wrote anything; ``lost``: it starts again
        because it was lost (one restart fewer left, and ``restarting`` tells the decoder)."""
        prime, fixed, bar_tries, rules, echo, positions = self.begun_with
        again = Stream(prime, fixed, bar_tries, rules, self.slot, self.splits, echo, positions)
        again.bars.restarts = self.bars.restarts - lost
        again.restarting = lost
        return again

    def split(self) -> Stream:
        """An ending draft: a copy that goes on from here on its own (it splits no further)."""
        draft = copy.deepcopy(self)
        draft.splits = 0
        return draft

    def write(self, char: str) -> None:
        if not self.in_header and char == "|" and self.chars[-1:] != ["|"]:
            self.bar_lines += 1
        self.chars.append(char)
        if not self.in_header:
            for rule in self.rules:
                rule.advance(char)
            if self.clock is not None:
                self.clock.advance(char)
            self.bars.follow(char, self)
        if char == "\n":
            line = "".join(self.chars[self.line_start : -1])
            self.fields.update(header_fields(line))
            if self.in_header:
                self._weigh_code(line)
                self.in_header = not line.startswith("K:")
                self.hornpipe = self.hornpipe or bool(HORNPIPE_LINE.match(line))
                if not self.in_header:  # the body begins: its pickup may be drawn again
                    self.clock = FormClock(self.fields) if self.positions else None
                    self.bars.start = self.body_start = len(self.chars)
                    self.bars.begin(self)
            self.line_start = len(self.chars)

    def _weigh_code(self, line: str) -> None:
        """Weigh a header draft down whose ``N:`` line, the model's own, is too short for the dance asked."""
        fixed = self.begun_with[1]
        if self.form_end is None or FORM_FIELD in fixed or not line.startswith(f"{FORM_FIELD}:"):
            return
        if too_short_for(fixed.get("R", ""), line[2:]):
            self.log_weight += UNPLAYABLE_WEIGHT

    def snapshot(self, pickup: bool) -> tuple:
        """What to go back to: the length written, the line, fields and bar lines, each rule's state, and ``pickup``."""
        rules = [rule.snapshot() for rule in self.rules]
        clock = None if self.clock is None else self.clock.snapshot()
        return len(self.chars), self.line_start, dict(self.fields), self.bar_lines, rules, clock, pickup

    def restore(self, snapshot: tuple) -> tuple[int, bool]:
        """Go back to a :meth:`snapshot` (which stays usable); returns its length and ``pickup``."""
        length, self.line_start, fields, self.bar_lines, states, clock, pickup = snapshot
        self.fields = dict(fields)
        if clock is None:
            self.clock = None
        elif self.clock is not None:
            self.clock.restore(clock)
        for rule, state in zip(self.rules, states):
            rule.restore(state)
        if self.echo is not None:
            self.echo.forget()
        del self.chars[length:]
        return length, pickup
