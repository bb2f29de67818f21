"""The echo: a tune's own earlier bars as a second guess at its next character, mixed with the model's.

Folk tunes repeat themselves: a fifth of the bars of held-out real tunes are
an earlier bar of the same tune note for note. The LSTM barely learns it (on
the test split it is hardly surer of a repeated bar's characters than of a new
bar's), so its tunes almost never repeat a bar. The echo is a cache model
(Kuhn and De Mori's cache, Grave et al.'s continuous cache) aligned to bars:
the earlier bars of the tune that begin as the bar being written has begun so
far say what comes next (the character that followed that much of them, or a
bar line where they ended), and

    p(next) = (1 - w[n]) * p_model(next) + w[n] * p_echo(next)

where ``n`` is how many characters of the bar are written so far (leading
spaces, line breaks and a repeat sign's colon aside) and ``w`` is fitted to real tunes by maximum
likelihood (:func:`musicgen.training.echo.fit_echo`) and saved with the model.
With no earlier bar that begins so, the model's guess stands alone. Pure
Python: the decoder (:mod:`musicgen.sampling.decoder`) mixes the
probabilities.
"""

from __future__ import annotations

from collections import Counter

#: Weights by characters of the bar written so far: 0, 1, ... and the last for that many or more.
ECHO_LENGTHS = 12
#: What a bar may begin with that says nothing of its music: spaces, line breaks (a backslash
#: continuing the line), the colon of a repeat sign (``|:``) and the bracket of a thick bar line
#: (``|]``). Left out where bars are compared.
LEADING = " \t\r\n\\:]"
#: Bar line written where an earlier bar ended after the characters the bar being written has so far.
BAR_LINE = "|"


def bar_prefix(text: str) -> str:
    """The bar being written (the text after the last bar line), without what it begins with of :data:`LEADING`."""
    return text[text.rfind(BAR_LINE) + 1 :].lstrip(LEADING)


def finished_bars(body: str) -> list[tuple[str, bool]]:
    """The bars a body has finished (split at bar lines), each without what it begins with of
    :data:`LEADING`, and whether it closed a part (followed by ``:|``, ``||`` or ``|]``).

    ``body``: the tune's text after its ``K:`` line, up to where the bar being written begins (the bar
    just finished has not been seen closing anything yet).
    """
    pieces = body[: body.rfind(BAR_LINE)].split(BAR_LINE) if BAR_LINE in body else []
    bars = []
    for index, piece in enumerate(pieces):
        bar = piece.lstrip(LEADING)
        if bar:
            after = pieces[index + 1] if index + 1 < len(pieces) else None
            bars.append((bar, piece.rstrip().endswith(":") or after == "" or (after or "").startswith("]")))
    return bars


def earlier_bars(body: str) -> list[str]:
    """The bars of :func:`finished_bars`."""
    return [bar for bar, _ in finished_bars(body)]


def ends_on_tonic(bar: str, fields: dict[str, str]) -> bool:
    """Whether a bar's last note is its key's tonic, read in the tune's ``M:``, ``L:`` and ``K:``."""
    from musicgen.abc.melody import abc_to_melody
    from musicgen.errors import ConversionError
    from musicgen.evaluation.evaluate import last_note_is_tonic

    key = fields.get("K", "")
    header = "".join(f"{letter}:{fields[letter]}\n" for letter in "ML" if letter in fields)
    try:
        melody = abc_to_melody(f"X:1\n{header}K:{key}\n{bar}|\n")
    except ConversionError:
        return False
    return last_note_is_tonic(melody, key)


def echo_counts(bars: list[str], prefix: str) -> Counter:
    """What followed ``prefix`` in each earlier bar that begins with it (a bar line where one ended there)."""
    size = len(prefix)
    return Counter(bar[size] if len(bar) > size else BAR_LINE for bar in bars if bar.startswith(prefix))


def weight_index(prefix: str) -> int:
    """Which weight applies to a bar written this far."""
    return min(len(prefix), ECHO_LENGTHS - 1)


def check_weights(weights) -> tuple[float, ...]:
    """Echo weights as a tuple of floats, each at least 0 and under 1 (else ValueError)."""
    if not isinstance(weights, (list, tuple)) or len(weights) != ECHO_LENGTHS:
        raise ValueError(f"echo weights must be a list of {ECHO_LENGTHS} numbers")
    checked = []
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
            raise ValueError(f"each echo weight must be in range 0..1 (excluding 1), not {weight!r}")
        checked.append(float(weight))
    return tuple(checked)


class Echo:
    """One tune's echo while it is written: its earlier bars, gathered again only when a new bar begins.

    Args:
        weights: the model's fitted weights (:data:`ECHO_LENGTHS` of them).
    """

    def __init__(self, weights: tuple[float, ...]):
        self.weights = weights
        self.bars: list[str] = []
        self.closing: list[str] = []  # those that closed a part
        self.tonic_closing: list[str] | None = None  # those of them that end on the tonic, once asked for
        self.matched: tuple[bool, str, list[str]] | None = None  # (closing, prefix, the bars it matched)
        self.upto = -1  # where the bar being written begins (in the tune's text) when bars were gathered

    def _closing(self, fields: dict[str, str] | None) -> list[str]:
        """The bars that closed a part, only those that end on the tonic where ``fields`` are given."""
        if fields is None:
            return self.closing
        if self.tonic_closing is None:
            self.tonic_closing = [bar for bar in self.closing if ends_on_tonic(bar, fields)]
        return self.tonic_closing

    def forget(self) -> None:
        """Gather the bars again at the next guess: the tune went back (:meth:`Stream.restore`)."""
        self.upto, self.matched = -1, None

    def guess(
        self,
        chars: list[str],
        body_start: int | None,
        bar_start: int | None,
        closing: bool = False,
        fields: dict[str, str] | None = None,
    ) -> tuple[float, Counter] | None:
        """The weight and the counts of what earlier bars say comes next, or None (in the header,
        before any bar has ended, or with no earlier bar that begins as this one has so far).
        ``closing``: the bar closes the tune, and echoes only the bars that closed a part, and with
        the tune's ``fields`` (M, L, K), only those of them that end on the key's tonic."""
        if body_start is None or bar_start is None or bar_start <= body_start:
            return None
        if bar_start != self.upto:
            finished = finished_bars("".join(chars[body_start:bar_start]))
            self.bars = [bar for bar, _ in finished]
            self.closing = [bar for bar, closes in finished if closes]
            self.tonic_closing = None
            self.upto = bar_start
            self.matched = None
        elif self.matched is not None and self.matched[0] == closing and not self.matched[2]:
            return None  # no bar matched a character ago (nothing was taken back since: forget)
        bars = self._closing(fields) if closing else self.bars
        if not bars:
            return None
        prefix = "".join(chars[bar_start:]).lstrip(LEADING)
        earlier = self.matched
        if earlier is not None and earlier[0] == closing and prefix.startswith(earlier[1]):
            bars = earlier[2]  # the bar has gone on from where it was matched last: those bars are left
        matching = [bar for bar in bars if bar.startswith(prefix)]
        self.matched = (closing, prefix, matching)
        weight = self.weights[weight_index(prefix)]
        return (weight, echo_counts(matching, prefix)) if matching and weight > 0 else None
