"""Plain-text summaries for the command line."""

from __future__ import annotations

import statistics
from collections import Counter

from musicgen.abc.corpus import Corpus, split_of
from musicgen.model.vocab import Vocabulary


def corpus_report(corpus: Corpus) -> str:
    """Tunes per source and split, skipped tunes by reason, styles and forms, vocabulary and lengths."""
    per_source = Counter(corpus.collections)
    splits = Counter((source, split_of(t)) for source, t in zip(corpus.collections, corpus.tunes))
    lines = [f"{'source':<24}{'tunes':>7}{'train':>7}{'valid':>7}{'test':>7}"]
    for source, count in sorted(per_source.items()):
        row = [splits[(source, s)] for s in ("train", "valid", "test")]
        lines.append(f"{source:<24}{count:>7}{row[0]:>7}{row[1]:>7}{row[2]:>7}")
    totals = [sum(splits[(s, name)] for s in per_source) for name in ("train", "valid", "test")]
    lines.append(f"{'total':<24}{len(corpus.tunes):>7}{totals[0]:>7}{totals[1]:>7}{totals[2]:>7}")
    lines.append("")
    lines.append(f"skipped: {len(corpus.skipped)} tunes")
    for reason, count in corpus.skip_reasons().most_common():
        lines.append(f"  {count:>6}  {reason}")
    coded = corpus.coded()
    styles = Counter(tune.fields.get("O", "(none)") for tune in coded)
    forms = Counter(tune.fields.get("N", "(none)") for tune in coded)
    lines.append("")
    lines.append(
        "styles (--style; the O: code training writes): " + ", ".join(f"{k} {n}" for k, n in styles.most_common())
    )
    lines.append("forms (--form, --part-bars; the N: code): " + ", ".join(f"{k} {n}" for k, n in forms.most_common(8)))
    texts = [tune.text for tune in coded]
    vocab = Vocabulary.from_texts(texts)
    shown = "".join(c for c in vocab.chars[2:] if c.isprintable())
    lines.append("")
    lines.append(f"vocabulary: {len(vocab)} symbols (characters plus tune start and end): {shown!r}")
    lengths = [len(t) for t in texts]
    lines.append(
        f"tune length in characters: min {min(lengths)}, median {statistics.median(lengths):.0f}, "
        f"mean {statistics.mean(lengths):.0f}, max {max(lengths)}; total {sum(lengths):,}"
    )
    return "\n".join(lines)


_LABELS = [
    ("tunes", "tunes", "d"),
    ("well_formed", "well-formed (headers, converts)", "%"),
    ("converts", "converts to MIDI", "%"),
    ("no_abc2midi_errors", "no abc2midi errors", "%"),
    ("bar_consistency", "bars of the meter's length", "f"),
    ("bars_filled", "  or completed by a pickup", "f"),
    ("ends_on_tonic", "ends on the tonic", "%"),
    ("in_scale", "notes in the key's scale", "%"),
    ("repeats", "has repeat signs", "%"),
    ("bars_per_section", "bars per section", "f"),
    ("bars_repeated", "bars repeating one earlier in the tune", "%"),
    ("ends_cleanly", "ends with a final bar line", "%"),
    ("dance_form", "two or more parts of 8 or 16 bars", "%"),
    ("one_part", "one part only", "%"),
    ("under_8_bars", "under 8 bars in all", "%"),
    ("verbatim_bars", "bars found verbatim in training", "%"),
    ("shares_4_bars", "shares 4+ bars with a training tune", "%"),
    ("copies_whole_tune", "copies a training tune whole", "%"),
    ("nearest_distance", "edit distance to nearest (share)", "f"),
    ("overlap_meters", "meter overlap with reference", "f"),
    ("overlap_keys", "key overlap with reference", "f"),
    ("overlap_note_lengths", "note-length overlap", "f"),
    ("overlap_pitch_ranges", "pitch-range overlap", "f"),
    ("overlap_forms", "form overlap with reference", "f"),
]


def _format(value, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "%":
        return f"{value:.1%}"
    if kind == "d":
        return f"{value:d}"
    return f"{value:.3f}"


_WIDTHS = (4, 3, 4, 6, 6, 6, 6, 4, 14)


def _row(*cells: object) -> str:
    """One line of the per-tune table: right-aligned columns, then the title."""
    *columns, title = cells
    return " ".join(f"{str(cell):>{width}}" for cell, width in zip(columns, _WIDTHS)) + f"  {title}"


def evaluation_table(result: dict, per_tune: bool = False) -> str:
    """The summary of :func:`musicgen.evaluation.evaluate.evaluate_tunes` as aligned text."""
    summary = result["summary"]
    lines = [f"{label:<38}{_format(summary[key], kind):>10}" for key, label, kind in _LABELS if key in summary]
    for form, share in summary.get("forms", {}).items():
        lines.append(f"{'  form ' + form:<38}{_format(share, '%'):>10}")
    for kind, share in summary.get("dance_form_by_type", {}).items():
        lines.append(f"{'  R:' + kind[:18] + ' in dance form':<38}{_format(share, '%'):>10}")
    if per_tune:
        lines.append("")
        lines.append(_row("X", "ok", "a2m", "bars", "filled", "tonic", "verb", "run", "form", "title"))
        for tune in result["tunes"]:
            lines.append(
                _row(
                    tune["number"],
                    "y" if tune["converts"] else "n",
                    "-" if tune["abc2midi_errors"] is None else tune["abc2midi_errors"],
                    _format(tune["bar_consistency"], "f"),
                    _format(tune["bars_filled"], "f"),
                    "y" if tune["ends_on_tonic"] else "n",
                    _format(tune["verbatim_bars"], "f"),
                    tune["longest_shared_run"],
                    tune["form"][:14],
                    tune["title"][:40],
                )
            )
    return "\n".join(lines)
