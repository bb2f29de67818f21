"""One tune being written: forced header lines, their weights, and the repeat rule."""

import pytest
import torch

from musicgen.stream import REPEAT_SPAN_LIMIT, Repeats, Stream, weigh
from musicgen.vocab import Vocabulary


def test_a_forced_line_weighs_what_the_model_gave_it_after_its_own_lines():
    vocab = Vocabulary.from_texts(["T:x\nR:reel\nM:9/8\nK:C\nABc|\n"])
    probs = torch.full((len(vocab),), 0.01)
    probs[vocab.index["T"]], probs[vocab.index["R"]], probs[vocab.index["M"]] = 0.2, 0.3, 0.1
    log_probs = torch.log(probs / probs.sum())
    p = log_probs.exp()
    stream = Stream("T:x\n", {"M": "9/8"})
    stream.write(stream.choose("K"))  # the model starts K:, after M: in the header order: M:9/8 comes first
    start = p[vocab.index["M"]] / (1 - p[vocab.index["T"]] - p[vocab.index["R"]])
    weigh(stream, "M", log_probs, vocab)
    assert stream.log_weight == pytest.approx(float(start.log()), rel=1e-5)
    stream.write(stream.choose("A"))  # forced ':' whatever the model drew
    weigh(stream, ":", log_probs, vocab)
    assert stream.log_weight == pytest.approx(float(start.log() + log_probs[vocab.index[":"]]), rel=1e-5)
    assert "".join(stream.chars) == "T:x\nM:"


@pytest.mark.parametrize("body, state, banned", [
    ("|: AB cd :|", "closed", "1"),  # :|2 is a second ending, :|1 a first one with no |: before it
    ("|: AB cd :| [", "closed", "1"),
    ("|: AB cd :| ef |", "closed", "1"),
    ("|: AB cd :| ef :", "closed", ":"),
    ("|: AB cd :|: ef |", "open", ":"),  # no second |: inside an open repeat
    ("AB cd :: ef ", "open", ""),
    ("AB cd |", "start", ""),
    ("|: AB |1 cd :|2 ef || |: g", "open", ""),
    ("|: AB |:|", "open", ":"),  # |: and a bar line, not a :|
    ("AB ::|", "open", ":"),
])
def test_repeat_marks_are_followed_as_abc2midi_reads_them(body, state, banned):
    repeats = Repeats()
    for char in body:
        repeats.follow(char)
    assert (repeats.state, repeats.banned()) == (state, banned)


def test_a_repeat_left_open_too_long_no_longer_keeps_the_tune_from_ending():
    repeats = Repeats()
    for char in "|:" + "A" * REPEAT_SPAN_LIMIT:
        repeats.follow(char)
    assert repeats.keeps_open
    repeats.follow("B")
    assert not repeats.keeps_open and repeats.state == "open"
    for char in "::":  # a new section starts a new count
        repeats.follow(char)
    assert repeats.keeps_open
