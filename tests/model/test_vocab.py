"""The character vocabulary."""

from hypothesis import given
from hypothesis import strategies as st

from musicgen.model.vocab import END, START, Vocabulary


def test_markers_come_first_and_order_is_stable():
    vocab = Vocabulary.from_texts(["cab", "bad"])
    assert vocab.chars == [START, END, "a", "b", "c", "d"]
    assert Vocabulary.from_texts(["dab", "cb"]).chars == vocab.chars


@given(st.text(min_size=1))
def test_round_trip(text):
    vocab = Vocabulary.from_texts([text])
    assert vocab.decode(vocab.encode(text)) == text


def test_unknown_characters_are_listed_once_in_order():
    vocab = Vocabulary.from_texts(["ABC"])
    assert vocab.unknown("AxByx") == ["x", "y"]
    assert "A" in vocab and "x" not in vocab
