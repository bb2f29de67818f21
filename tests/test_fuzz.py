"""Hostile ABC: only MusicgenError may escape, and nothing hangs (see fuzz/ for the long run)."""

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzz.strategies import hostile_abc  # noqa: E402
from musicgen.abc.melody import abc_to_melody  # noqa: E402
from musicgen.abc.tunebook import decode_abc, parse_tunebook  # noqa: E402
from musicgen.errors import MusicgenError  # noqa: E402
from musicgen.evaluation.evaluate import score_tune  # noqa: E402
from musicgen.render.midi import melody_to_midi_file  # noqa: E402

FAST = settings(max_examples=150, deadline=2000, suppress_health_check=list(HealthCheck))


@FAST
@given(hostile_abc())
def test_tunebook_parsing_never_raises(text):
    tunes, skipped = parse_tunebook(text, "fuzz")
    for tune in tunes:
        assert tune.abc.startswith("X:")


@FAST
@given(hostile_abc())
def test_conversion_raises_only_musicgen_errors(text):
    try:
        melody = abc_to_melody(text)
        melody_to_midi_file(melody)
    except MusicgenError as error:
        assert "\n" not in str(error)


@FAST
@given(hostile_abc())
def test_evaluation_raises_only_musicgen_errors(text):
    tunes, _ = parse_tunebook(text, "fuzz")
    for tune in tunes:
        score_tune(tune, use_abc2midi=False)


def test_invalid_utf8_decodes():
    assert decode_abc(b"X:1\nT:\xff\xfe\x80\nK:C\nABC|\n").startswith("X:1")
