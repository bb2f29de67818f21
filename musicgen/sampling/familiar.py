"""What a model saw in training, to say so when a request is outside it (``--type polka``, ``--meter 5/4``,
``--style``, ``--form``).

A model keeps, from its training tunes, how many had each tune type (``R:``,
each comma-separated item counted), meter (``M:``), style (``O:``) and form
pattern (``N:``). A requested one seen fewer than :data:`FAMILIAR` times is honoured in the header,
but the model has little to go on, and the user is told so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

#: Training tunes of a type or meter below which a request for it gets a note.
FAMILIAR = 20


def _types(value: str) -> list[str]:
    return [" ".join(item.split()) for item in value.lower().replace(";", ",").split(",") if item.strip()]


def header_counts(tunes: Iterable) -> dict[str, dict[str, int]]:
    """Training tunes per tune type (each ``R:`` item), meter (``M:``), style (``O:``) and form (``N:``).

    ``tunes``: tunes with ``.fields`` (their codes written in, :mod:`musicgen.abc.codes`).
    """
    types: Counter = Counter()
    meters: Counter = Counter()
    styles: Counter = Counter()
    forms: Counter = Counter()
    for tune in tunes:
        types.update(_types(tune.fields.get("R", "")))
        meters[tune.fields.get("M", "none")] += 1
        styles[tune.fields.get("O", "none")] += 1
        forms[tune.fields.get("N", "none").split(" ")[0]] += 1
    return {"R": dict(types), "M": dict(meters), "O": dict(styles), "N": dict(forms)}


def tunes_of_type(counts: dict[str, int], tune_type: str) -> int:
    """Training tunes whose type is ``tune_type`` or names it as a word (``double jig`` is a jig)."""
    wanted = " ".join(tune_type.lower().split())
    return sum(n for kind, n in counts.items() if kind == wanted or wanted in kind.split())


def unfamiliar(counts: dict | None, header: dict[str, str]) -> list[str]:
    """A note for each requested type or meter the model saw fewer than :data:`FAMILIAR` times in training.

    ``counts``: a model's :func:`header_counts` (None or empty: nothing is known, nothing is said).
    """
    if not counts:
        return []
    notes = []
    if "R" in header:
        seen = tunes_of_type(counts.get("R", {}), header["R"])
        if seen < FAMILIAR:
            notes.append(
                f"--type {header['R']}: the model saw {seen} such tune{'s' * (seen != 1)} in training; "
                "it writes the R: line, but expect few real ones"
            )
    if "O" in header:
        seen = counts.get("O", {}).get(header["O"], 0)
        if seen < FAMILIAR:
            known = ", ".join(sorted(k for k, n in counts.get("O", {}).items() if n >= FAMILIAR and k != "none"))
            notes.append(
                f"--style {header['O']}: the model saw {seen} tune{'s' * (seen != 1)} of it in training "
                f"(its styles: {known or 'none'}); it writes the O: line, but expect other music"
            )
    if "N" in header:
        pattern = header["N"].split(" ")[0]
        seen = counts.get("N", {}).get(pattern, 0)
        if seen < FAMILIAR:
            notes.append(
                f"--form {pattern}: the model saw {seen} tune{'s' * (seen != 1)} of that form in training; "
                "it writes the N: line, but expect parts that do not keep it"
            )
    if "M" in header:
        seen = counts.get("M", {}).get(header["M"], 0)
        if seen < FAMILIAR:
            notes.append(
                f"--meter {header['M']}: the model saw {seen} tune{'s' * (seen != 1)} in it in training; "
                "it writes the M: line, but expect bars that do not fill it"
            )
    return notes
