"""The bar verifier: a finished bar that does not fill its meter, or that abc2midi reports an error in, is drawn again.

A bar ended by a plain ``|`` is kept when its notes fill the meter; one
shorter than that is kept only when the ``|`` turns out to end a section or
the tune (:data:`~musicgen.sampling.facts.SHORT_BAR_ENDS`), one longer
never, nor one abc2midi reports an error in
(:func:`~musicgen.sampling.facts.malformed_bar`, a broken rhythm over
unequal notes), nor one that runs :data:`BAR_SPAN_LIMIT` characters without
a bar line. Any other bar is drawn again from its first character, up
to ``bar_tries`` times (then it stands as it is; 0 never draws one again)
and :data:`TUNE_REDRAWS` times per tune, the model resuming from its own
state where the bar began. A tune that has thrown away more than
:data:`LOST_AFTER` characters so is taken as lost (:attr:`Bars.lost`) and
starts again from its beginning, header and all, at most :data:`RESTARTS`
times (the decoder restarts it). Not judged for its length: the pickup (before
the body's first bar line), a free meter; a bar ended by ``:|``, ``::`` or
``[|`` may be short (a first ending or a section's last bar), and long only
where no form is asked for. A bar's
length is read as :func:`musicgen.abc.melody.read_measures` reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicgen.abc.melody import read_bar
from musicgen.errors import ConversionError
from musicgen.sampling.facts import SHORT_BAR_ENDS, abc2midi_refuses, malformed_bar

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

#: Bars a tune may draw again in all, which bounds what redrawing costs.
TUNE_REDRAWS = 64

#: Characters a tune may throw away drawing bars again before it is taken as lost and starts again
#: (:attr:`Bars.lost`). The tunes that threw away the most, in 64 at the CLI's defaults, were written
#: in another meter than their header's (bars of 4/4 under ``M:2/4``, every one drawn again); a tune
#: that fills its bars throws away a few dozen.
LOST_AFTER = 400
#: Times a lost tune starts again; after that its bars are drawn again where they are, as before.
RESTARTS = 2

#: Characters a bar may run to without a bar line before it is drawn again: about twice the
#: training corpus's 99.9th percentile (53 characters; the median bar has 9), so a model that has
#: lost the bar (a run of spaces, line breaks or notes) goes back to the bar's start.
BAR_SPAN_LIMIT = 100


class Bars:
    """Where a tune's body stands with its bars.

    ``mark`` is the stream's snapshot where the bar being written began
    (:meth:`~musicgen.sampling.stream.Stream.snapshot`); ``resume`` is the
    decoder's (logits, recurrent state) there, kept by the decoder when
    ``begun`` says a bar has just begun and put back when ``redrawn`` says
    the tune went back to it. ``body_mark`` and ``body_resume`` are those of
    the body's first bar, kept for a tune whose ending drafts go back there
    (:meth:`retake`, :meth:`~musicgen.sampling.stream.Stream.retake_due`).
    """

    def __init__(self, start: int | None, tries: int, pickup: bool):
        self.start = start  # where the bar being written begins in the tune's characters; None in the header
        self.pickup = pickup  # the bar being written is the body's first
        self.mark: tuple | None = None
        self.resume: tuple[Any, tuple] | None = None  # (logits, state parts) where the bar began
        self.begun = False  # a bar has just begun: the decoder keeps its resume
        self.redrawn = False  # the tune has just gone back to its bar's start: the decoder resumes there
        self.short_pending = False  # the | about to be written ends a short bar
        self.waiting = False  # the last character written is such a |
        self.most_tries = self.tries = tries
        self.tune_redraws = TUNE_REDRAWS  # redraws this tune has left
        self.body_mark: tuple | None = None  # the mark and resume where the body's first bar began
        self.body_resume: tuple[Any, tuple] | None = None
        self.unsound = False  # a bar abc2midi reports an error in stood, its redraws spent
        self.thrown = 0  # characters thrown away drawing bars again since the body began
        self.restarts = RESTARTS  # times the tune may still start again once lost

    def fault(self, stream: Stream) -> str | None:
        """What is wrong with the bar a ``|`` written now would end, or None.

        ``"malformed"``: abc2midi reports an error in it; ``"short"`` or
        ``"long"``: its notes do not fill the meter. None when it is sound
        or not judged (the pickup, a short bar whose ``|`` ends a mark such as
        ``:|`` or ``[|``, an empty bar, a free meter).
        """
        if stream.in_header or self.start is None:
            return None
        ends_mark = stream.chars[-1] in "|:["
        text = "".join(stream.chars[self.start :])
        text = text.rstrip(":[") if ends_mark else text
        try:
            length, bar_length, warnings = read_bar(stream.fields, text)
        except ConversionError:
            return "malformed"
        if malformed_bar(text) or any(abc2midi_refuses(warning) for warning in warnings):
            return "malformed"
        if self.pickup or bar_length is None or length in (0, bar_length):
            return None
        if ends_mark and (length < bar_length or not stream.form_asked):
            # A first ending or a part's last bar may be short. A long one is drawn again where a form
            # is asked for (its parts are counted in bars); elsewhere it stands, as drawing it again
            # cost A-dorian slip jigs their tonic endings (90 of 96 with four drafts, against 95).
            return None
        return "short" if length < bar_length else "long"

    def rejects(self, char: str, stream: Stream) -> bool:
        """Whether writing ``char`` would keep a bar that does not fill its meter, and the bar can be drawn again."""
        if self.mark is None or self.resume is None:
            return False
        if not self.tries or not self.tune_redraws:
            if char == "|" and not self.waiting and self.fault(stream) == "malformed":
                self.unsound = True
            return False
        if self.waiting:
            return char not in SHORT_BAR_ENDS
        if char != "|":  # a bar that runs on without a bar line is lost
            return self.start is not None and len(stream.chars) - self.start >= BAR_SPAN_LIMIT
        fault = self.fault(stream)
        self.short_pending = fault == "short"
        return fault in ("long", "malformed")

    @property
    def lost(self) -> bool:
        """The tune has thrown away more than :data:`LOST_AFTER` characters drawing bars again, and may
        still start again (the decoder puts a new stream in its place: :meth:`Stream.restarted`)."""
        return self.thrown > LOST_AFTER and self.restarts > 0

    def go_back(self, stream: Stream) -> None:
        """Put the stream back where the bar being written began (the decoder resumes from ``resume``)."""
        assert self.mark is not None  # only redrawn where fault found a marked bar
        self.thrown += len(stream.chars) - self.mark[0]
        length, pickup = stream.restore(self.mark)
        self.start, self.pickup, self.short_pending, self.waiting = length, pickup, False, False
        self.tries -= 1
        self.tune_redraws -= 1
        self.redrawn = True

    def follow(self, char: str, stream: Stream) -> None:
        """Move the bar's start past a bar line; mark where a kept bar's successor begins."""
        ends_bar = char == "|" or (char == ":" and stream.chars[-2] == ":")
        if ends_bar:
            self.start, self.pickup = len(stream.chars), False
        if self.short_pending:  # the | of a short bar: kept if what follows ends a section
            self.short_pending, self.waiting = False, True
            return
        if not (ends_bar or self.waiting):
            return
        self.waiting = False
        self.begin(stream)

    def begin(self, stream: Stream) -> None:
        """A bar begins here: keep what to go back to if it is drawn again (nothing when bars are never redrawn)."""
        if not self.most_tries:
            return
        self.mark = stream.snapshot(self.pickup)
        self.begun, self.tries = True, self.most_tries
        if self.body_mark is None:
            self.body_mark = self.mark

    def retake(self, stream: Stream) -> None:
        """Put the stream back where its body's first bar began, with its redraws whole again, for a
        draft written from there (the decoder resumes it from ``body_resume``)."""
        assert self.body_mark is not None and self.body_resume is not None
        length, self.pickup = stream.restore(self.body_mark)
        self.start, self.mark, self.resume = length, self.body_mark, self.body_resume
        self.short_pending = self.waiting = self.begun = self.redrawn = self.unsound = False
        self.tries, self.tune_redraws, self.thrown = self.most_tries, TUNE_REDRAWS, 0
