"""The echo: a tune's earlier bars as a guess at its next character, mixed into the model's, fitted to real tunes."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from musicgen.evaluation.evaluate import repeated_bars
from musicgen.sampling.echo import (
    ECHO_LENGTHS,
    bar_prefix,
    check_weights,
    earlier_bars,
    echo_counts,
    ends_on_tonic,
    finished_bars,
)
from musicgen.sampling.stream import Stream, body_of

HEAD = "M:4/4\nL:1/8\nK:C\n"


def test_earlier_bars_are_the_finished_bars_without_leading_spaces_and_line_breaks():
    assert earlier_bars("|: CDEF GABc | d2 c2 B2 A2 |\n CDEF GABc |") == ["CDEF GABc ", "d2 c2 B2 A2 ", "CDEF GABc "]
    assert earlier_bars("CDEF GABc") == []  # the first bar is not finished
    assert bar_prefix("CDEF|] \n  GA") == "GA"


def closing_bars(body: str) -> list[str]:
    return [bar for bar, closes in finished_bars(body) if closes]


def test_closing_bars_are_those_a_part_ends_on():
    body = "|: CDEF GABc | d2 c2 B2 A2 :|\n|: efga bagf | d2 c2 B2 A2 || cdef|] GA|"
    assert closing_bars(body) == ["d2 c2 B2 A2 :", "d2 c2 B2 A2 ", "cdef"]
    assert closing_bars("A|B:|C|") == ["B:"]  # the bar just finished has not been seen closing anything


def test_the_tunes_last_bar_by_its_form_code_echoes_only_bars_that_closed_a_part():
    stream = Stream("N:AABB 2\nM:4/4\nL:1/8\nK:C\n", {}, echo=(0.5,) * ECHO_LENGTHS)
    for char in "|:dfed cBAG|d2c2 B2c2:|\n|:d":
        stream.write(char)
    assert stream.echo_guess() == (0.5, Counter({"f": 1, "2": 1}))  # the last part's first bar: every bar
    for char in "fed cBAG|d":
        stream.write(char)
    assert stream.echo_guess() == (0.5, Counter({"2": 1}))  # its last bar: only the bar that closed a part


def test_the_tunes_last_bar_echoes_only_closing_bars_that_end_on_the_tonic():
    stream = Stream("N:ABC 2\nM:4/4\nL:1/8\nK:G\n", {}, echo=(0.5,) * ECHO_LENGTHS)
    for char in "GABc dBGB|dfed cBAD||GABc dBGB|dfed cBAG||GABc dBGB|d":  # parts close on D, then on G
        stream.write(char)
    assert stream.echo_guess() == (0.5, Counter({"f": 1}))  # the closing bar on G alone
    assert ends_on_tonic("B2G2", {"K": "G"}) and not ends_on_tonic("B2G2", {"K": "D"})
    assert ends_on_tonic("[B,DG]2 z2", {"K": "Gmix"})  # the last note played, as the ending ranker reads it
    assert ends_on_tonic("x|||", {"K": "G"}) is False  # nothing the reader can read


def test_the_echo_says_what_followed_in_each_earlier_bar_that_begins_alike():
    bars = ["CDEF GABc ", "CDEG ABcd ", "d2 c2 B2 A2 "]
    assert echo_counts(bars, "CDE") == Counter({"F": 1, "G": 1})
    assert echo_counts(bars, "CDEF GABc ") == Counter({"|": 1})  # that bar ended there
    assert echo_counts(bars, "e") == Counter()
    assert echo_counts(bars, "") == Counter({"C": 2, "d": 1})


def test_a_stream_guesses_from_its_own_body_only_once_a_bar_has_ended():
    weights = tuple(round(0.1 * (i % 10), 1) for i in range(ECHO_LENGTHS))
    stream = Stream(HEAD, {}, echo=weights)
    assert stream.echo_guess() is None  # nothing to echo yet
    for char in "CDEF GABc|CD":
        stream.write(char)
    assert stream.echo_guess() == (0.2, Counter({"E": 1}))  # two characters of the bar written
    stream.write("G")
    assert stream.echo_guess() is None  # no earlier bar begins CDG
    assert Stream(HEAD, {}).echo_guess() is None  # no weights: no echo
    header = Stream("X:1\n", {}, echo=weights)
    header.write("T")
    assert header.echo_guess() is None


def test_a_stream_gathers_its_bars_again_after_going_back():
    stream = Stream(HEAD, {}, bar_tries=8, echo=(0.5,) * ECHO_LENGTHS)
    for char in "CDEF GABc|":
        stream.write(char)
    mark = stream.snapshot(False)
    for char in "d2 c2 B2 A2|":
        stream.write(char)
    assert stream.echo_guess() == (0.5, Counter({"C": 1, "d": 1}))
    length, _ = stream.restore(mark)
    stream.bars.start = length
    assert stream.echo_guess() == (0.5, Counter({"C": 1}))


def test_weights_must_be_a_full_list_of_numbers_from_0_to_under_1():
    assert check_weights([0] * ECHO_LENGTHS) == (0.0,) * ECHO_LENGTHS
    for bad in ([0.5] * (ECHO_LENGTHS - 1), [1.0] * ECHO_LENGTHS, [-0.1] * ECHO_LENGTHS, [True] * ECHO_LENGTHS, "0"):
        with pytest.raises(ValueError):
            check_weights(bad)


def test_the_echo_needs_no_torch():
    code = "import sys\nimport musicgen.sampling.echo\nprint('torch' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_mixing_keeps_probabilities_whole_and_moves_weight_to_the_echo():
    import torch

    from musicgen.model.vocab import Vocabulary
    from musicgen.sampling.decoder import mix_echo

    vocab = Vocabulary.from_texts([HEAD + "CDEF GABc|d "])
    stream = Stream(HEAD, {}, echo=(0.75,) * ECHO_LENGTHS)
    for char in "CDEF GABc|CDE":
        stream.write(char)
    plain = Stream(HEAD, {})
    probs = torch.full((2, len(vocab)), 1 / len(vocab))
    mix_echo(probs, [stream, plain], [0, 1], vocab)
    assert torch.allclose(probs.sum(dim=-1), torch.ones(2))
    assert probs[0, vocab.index["F"]].item() == pytest.approx(0.25 / len(vocab) + 0.75)
    assert torch.allclose(probs[1], torch.full((len(vocab),), 1 / len(vocab)))  # no echo: untouched


def test_fitted_weights_follow_how_often_real_bars_come_back(tonic_run):
    from musicgen.model.lm import load_model
    from musicgen.training.echo import fit_echo

    model = load_model(tonic_run)
    echoing = ["T:x\nM:4/4\nL:1/8\nK:C\n" + "CDEF GABc|d2c2 B2A2|" * 4 + "\n"] * 3
    new = ["T:x\nM:4/4\nL:1/8\nK:C\nCDEF GABc|d2c2 B2A2|EFGA Bcde|c2G2 E2C2|\n"] * 3
    fitted, never = fit_echo(model, echoing), fit_echo(model, new)
    assert min(fitted.weights[3:9]) > 0.9 and fitted.weights[11] == 0  # no bar is 11 characters long
    assert fitted.bits_with_echo < fitted.bits_alone / 2
    assert max(never.weights[3:]) < 0.05 and never.bits_with_echo == pytest.approx(never.bits_alone, abs=0.01)


def test_training_fits_the_echo_and_sampling_with_it_repeats_bars(tonic_run):
    import musicgen
    from musicgen.model.checkpoint import load_checkpoint

    assert len(load_checkpoint(tonic_run / "model.pt")["echo"]) == ECHO_LENGTHS
    model = musicgen.load_model(tonic_run)
    model.echo = (0.9,) * ECHO_LENGTHS  # a tiny model's own fit is weak: make the echo plain to see
    prime = "M:4/4\nL:1/8\nK:C\nCDEF GABc|d2c2 B2A2|"
    repeated = {}
    for echo in (True, False):
        tunes = musicgen.generate(model, n=8, seed=3, echo=echo, end_drafts=1, max_length=120, prime=prime)
        repeated[echo] = sum(repeated_bars(body_of(tune.abc) or "")[1] for tune in tunes)
    assert repeated[True] >= 16 and repeated[False] <= 2


def test_echo_weights_are_saved_with_the_model_and_bad_ones_refused(tonic_run, tmp_path):
    import musicgen
    from musicgen.errors import CheckpointError

    model = musicgen.load_model(tonic_run)
    model.echo = (0.25,) * ECHO_LENGTHS
    folder = model.save(tmp_path / "saved")
    assert musicgen.load_model(folder).echo == (0.25,) * ECHO_LENGTHS
    config = json.loads((folder / "config.json").read_text())
    config["echo"] = [2.0] * ECHO_LENGTHS
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="echo weights are not valid"):
        musicgen.load_model(folder)


def test_export_fit_echo_fits_the_weights_again_and_keeps_the_weights_of_the_model(tonic_run, tmp_path, run):
    import musicgen

    result = run("export", tonic_run, tmp_path / "shared", "--fit-echo")
    assert result.exit_code == 0 and "echo weights" in result.output and "with the echo" in result.output
    saved = musicgen.load_model(tmp_path / "shared")
    assert saved.echo is None or len(saved.echo) == ECHO_LENGTHS
    assert saved.head.weight.half().equal(musicgen.load_model(tonic_run).head.weight.half())
