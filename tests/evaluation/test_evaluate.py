"""The evaluation metrics, on small hand-made tunebooks whose answers are known."""

import json
import os
from collections import Counter

import pytest
from click.testing import CliRunner

from helpers import needs_abc2midi
from musicgen.abc.melody import abc_to_melody
from musicgen.abc.tunebook import parse_tune, parse_tunebook
from musicgen.cli.main import main
from musicgen.evaluation.evaluate import (
    NoveltyIndex,
    bar_texts,
    evaluate_tunes,
    last_note_is_tonic,
    overlap,
    score_tune,
)

GOOD = "X:1\nT:Good\nM:4/4\nL:1/8\nK:G\n|:G2AB c2BA|GABc d4|efga b2ag|fedc B2G2:|\n"
# pickup, a short bar in the middle, ends on A in G, an F natural outside the scale
ROUGH = "X:2\nT:Rough\nM:4/4\nL:1/8\nK:G\nD2|G2AB c2BA|GAB d4|=FABc d4|A8|\n"


def test_well_formed_bars_tonic_and_structure():
    good = score_tune(parse_tune(GOOD), use_abc2midi=False)
    assert good.has_headers and good.converts
    assert good.bars_checked == 2 and good.bar_consistency == 1.0  # first and last bar not counted
    assert good.ends_on_tonic and good.in_scale == 1.0
    assert good.repeats and good.sections == 1 and good.bars_per_section == 4 and good.ends_cleanly

    rough = score_tune(parse_tune(ROUGH), use_abc2midi=False)
    assert rough.bars_checked == 3 and rough.bar_consistency == pytest.approx(2 / 3)
    assert not rough.ends_on_tonic and not rough.repeats and not rough.ends_cleanly
    assert rough.in_scale == pytest.approx(16 / 17)


@pytest.mark.parametrize(
    "body, exact, filled",
    [
        # each part's short last bar and the next part's pickup make one 6/8 bar
        ("g|bga g2d|Bdd cAc|EFG G2:|G|GAG GED|Eed d2B|BAG DED|eaa g2:|", 5 / 7, 1.0),
        # a first ending completed by the tune's pickup, the second full
        ("D|G2A B2c|d2e f2g|1 a3 g2:|2 a3 g3||", 2 / 3, 1.0),
        # a short bar in the middle of a part is wrong whatever follows
        ("G2A B2c|d2e f2|g2a b2c'|d'3 g3|]", 1 / 2, 1 / 2),
        # a short part end whose next bar does not complete it is wrong
        ("G2A B2c|d2e f2:|G2A B2c|d3 g3|]", 1 / 2, 1 / 2),
    ],
)
def test_bars_filled_counts_a_pickup_that_completes_a_parts_last_bar(body, exact, filled):
    score = score_tune(parse_tune(f"X:1\nM:6/8\nL:1/8\nK:G\n{body}\n"), use_abc2midi=False)
    assert score.bar_consistency == pytest.approx(exact)
    assert score.bars_filled == pytest.approx(filled)


@pytest.mark.parametrize(
    "abc, expected",
    [
        (GOOD, True),
        (ROUGH, False),
        (GOOD.replace("K:G", "K:Edor"), False),  # G is not the tonic of E dorian
        ("X:5\nM:6/8\nL:1/8\nK:F#m\n|:cBA F3:|\n", True),  # sharps in the key name
        ("X:6\nM:6/8\nL:1/8\nK:D\n|:DFA d3|1 B3 A3:|2 B3 d3|]\n", True),  # the second ending is played last
        ("X:7\nM:4/4\nL:1/8\nK:none\nCDEF GABc|\n", False),  # no tonic to end on
        ("X:8\nM:4/4\nL:0\nK:C\nCDEF|\n", False),  # does not convert
    ],
)
def test_ends_on_tonic_reads_the_last_note_played_against_the_key(abc, expected):
    tune = parse_tune(abc)
    assert score_tune(tune, use_abc2midi=False).ends_on_tonic is expected
    if expected:
        assert last_note_is_tonic(abc_to_melody(abc), tune.key)


def test_tune_that_cannot_convert():
    score = score_tune(parse_tune("X:3\nT:Bad\nM:4/4\nL:0\nK:C\nCDEF|\n"), use_abc2midi=False)
    assert not score.converts and "L:0" in score.error


def test_novelty_counts_verbatim_bars_runs_and_the_nearest_tune():
    training = parse_tunebook(GOOD + "\n" + "X:9\nT:Other\nM:4/4\nL:1/8\nK:D\nd2fd c2ec|defg afge|\n")[0]
    index = NoveltyIndex(training)
    copy = parse_tune(GOOD.replace("T:Good", "T:Copy"))
    half = parse_tune("X:4\nT:Half\nM:4/4\nL:1/8\nK:G\n|:G2AB c2BA|GABc d4|cccc cccc|DDDD DDDD:|\n")
    result = evaluate_tunes([copy, half], novelty=index, use_abc2midi=False)
    first, second = result["tunes"]
    assert first["verbatim_bars"] == 1.0 and first["longest_shared_run"] == 4 and first["nearest_distance"] == 0
    assert second["verbatim_bars"] == 0.5 and second["longest_shared_run"] == 2
    assert "Good" in second["nearest"]
    assert result["summary"]["copies_whole_tune"] == 0.5 and result["summary"]["shares_4_bars"] == 0.5


def test_bars_are_split_on_every_kind_of_bar_line():
    assert bar_texts("|:ab cd|1 ef:|2 gA||\nK:D\nB c|]") == ["abcd", "ef", "gA", "Bc"]


def test_overlap_of_histograms():
    assert overlap(Counter(a=1, b=1), Counter(a=2, b=2)) == 1.0
    assert overlap(Counter(a=1), Counter(b=1)) == 0.0
    assert overlap(Counter(), Counter(a=1)) is None


def test_population_against_a_reference(tmp_path):
    tunes = parse_tunebook(GOOD + "\n" + ROUGH)[0]
    summary = evaluate_tunes(tunes, reference=tunes, use_abc2midi=False)["summary"]
    assert summary["overlap_meters"] == 1.0 and summary["overlap_keys"] == 1.0


def test_cli_table_json_and_errors(tmp_path):
    book = tmp_path / "book.abc"
    book.write_text(GOOD + "\n" + ROUGH)
    runner = CliRunner()
    table = runner.invoke(main, ["evaluate", str(book), "--no-novelty", "--no-abc2midi", "--per-tune"])
    assert table.exit_code == 0 and "ends on the tonic" in table.output and "50.0%" in table.output
    data = json.loads(
        runner.invoke(main, ["evaluate", str(book), "--no-novelty", "--json"]).stdout
    )  # the progress bar goes to stderr
    assert data["summary"]["tunes"] == 2 and len(data["tunes"]) == 2
    missing = runner.invoke(main, ["evaluate", str(tmp_path / "none.abc")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    (tmp_path / "empty.abc").write_text("nothing here")
    empty = runner.invoke(main, ["evaluate", str(tmp_path / "empty.abc")])
    assert empty.exit_code == 1 and "no usable tune" in empty.output


def test_novelty_in_any_key_counts_a_tune_copied_into_another_key():
    from musicgen.abc.transpose import transpose_tune
    from musicgen.evaluation.evaluate import any_key_index, novelty_in_any_key

    training = parse_tune(
        "X:1\nT:Jig\nM:6/8\nL:1/8\nK:G\nGAB dBG|ABc edc|BdB AGF|GBd g2e|dBG ABc|BGE DEF|GAB AGF|G3 G3|\n"
    )
    copied = transpose_tune(training, "A")  # a tone up: moved to C, both land in the same octave
    as_written = evaluate_tunes([copied], None, NoveltyIndex([training]), use_abc2midi=False)["summary"]
    assert as_written["verbatim_bars"] == 0.0 and as_written["copies_whole_tune"] == 0.0
    figures = novelty_in_any_key([copied], any_key_index([training]))
    assert figures == {"verbatim_bars": 1.0, "shares_4_bars": 1.0, "copies_whole_tune": 1.0}


@needs_abc2midi
def test_abc2midi_runs_bounded_and_a_failure_counts_against_the_tune(monkeypatch, tmp_path):
    import resource

    import musicgen.evaluation.abc2midi as runner
    from musicgen.evaluation.evaluate import abc2midi_error_count

    hostile = "X:1\nL:1/8\nK:C\n" + "Z999999|" * 150 + "\n"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = runner.run_abc2midi(hostile, "-c")
    assert run.failure and run.errors >= 1
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss <= max(before, 600 * 1024)  # KB
    assert abc2midi_error_count(hostile) >= 1
    assert abc2midi_error_count("X:1\nM:4/4\nL:1/8\nK:C\nCDEF GABc|\n") == 0
    stalled = tmp_path / "bin" / "abc2midi"  # an abc2midi that hangs, then one that crashes
    stalled.parent.mkdir()
    stalled.write_text("#!/bin/sh\nsleep 30\n")
    stalled.chmod(0o755)
    monkeypatch.setenv("PATH", f"{stalled.parent}:{os.environ['PATH']}")
    monkeypatch.setattr(runner, "ABC2MIDI_SECONDS", 0.5)
    slow = runner.run_abc2midi("X:1\nK:C\nCDEF|\n", "-c")
    assert "ran past" in slow.failure and slow.errors == 1
    stalled.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashed = runner.run_abc2midi("X:1\nK:C\nCDEF|\n", "-c")
    assert "signal 11" in crashed.failure and abc2midi_error_count("X:1\nK:C\nCDEF|\n") == 1
