"""Loading corpora: the default collections, user files and folders, splits."""

import pytest

from musicgen.abc.corpus import DEFAULT_COLLECTIONS, load_corpus, split_of
from musicgen.errors import CorpusError


@pytest.fixture(scope="module")
def default_corpus():
    return load_corpus()


def test_default_corpus_has_every_collection_and_thousands_of_tunes(default_corpus):
    assert set(default_corpus.collections) == set(DEFAULT_COLLECTIONS)
    assert 12_500 < len(default_corpus.tunes) < 13_100
    assert all("K" in t.fields and t.body for t in default_corpus.tunes)


def test_default_corpus_has_no_duplicates_and_explains_skips(default_corpus):
    texts = default_corpus.texts()
    assert len(texts) == len(set(texts))
    reasons = default_corpus.skip_reasons()
    assert reasons["duplicate"] > 0
    assert all(item.reason for item in default_corpus.skipped)


def test_splits_are_disjoint_deterministic_and_about_90_5_5(default_corpus):
    sizes = {name: len(default_corpus.split(name)) for name in ("train", "valid", "test")}
    total = sum(sizes.values())
    assert total == len(default_corpus.tunes)
    assert 0.88 < sizes["train"] / total < 0.92
    assert 0.04 < sizes["valid"] / total < 0.06
    again = load_corpus()
    assert [split_of(t) for t in again.tunes] == [split_of(t) for t in default_corpus.tunes]


def test_user_file_and_folder(tmp_path, tiny_book):
    corpus = load_corpus([tiny_book])
    assert [t.title for t in corpus.tunes] == ["The Kesh", "Drowsy Maggie", "Polska with no L"]
    assert corpus.skip_reasons() == {"no K: field": 1, "no notes in the body": 1, "duplicate": 1}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "book.ABC").write_bytes(tiny_book.read_bytes())
    (tmp_path / "notes.txt").write_text("not abc")
    assert len(load_corpus([tmp_path]).tunes) == 3


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no such file or folder"):
        load_corpus([tmp_path / "nope.abc"])


def test_folder_without_abc_files_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no .abc files"):
        load_corpus([tmp_path])


def test_corpus_without_usable_tunes_says_why(tmp_path):
    book = tmp_path / "bad.abc"
    book.write_text("X:1\nT:no key\nABC|\n\nX:2\nT:empty\nK:D\n")
    with pytest.raises(CorpusError, match="no usable tune.*1 no K: field.*1 no notes"):
        load_corpus([book])


def test_odd_habits_of_music21_books_are_cleaned(default_corpus):
    texts = [tune.text for tune in default_corpus.tunes]
    assert not any(line.startswith(("I:", "N:", "Z:", "B:", "S:", "O:")) for t in texts for line in t.split("\n"))
    assert not any("\x81" in t or "\x84" in t or "\x94" in t for t in texts)  # DOS umlauts repaired
    assert any("ü" in t for t in texts)
    assert not any("[|]" in t for t in texts)
    meters = {t.fields.get("M") for t in default_corpus.tunes}
    assert "C" not in meters and "C|" not in meters and "4/4" in meters


def test_training_texts_carry_form_and_style_codes_first_and_keep_the_splits(default_corpus):
    coded = default_corpus.coded()
    assert len(coded) == len(default_corpus.tunes)
    by_source = {}
    for tune in coded:
        by_source.setdefault(tune.source.split("/")[0], tune)
        lines = tune.text.split("\n")
        codes = [line for line in lines if line.startswith(("N:", "O:"))]
        assert lines[: len(codes)] == codes  # first, before T:
    assert sum("N" in t.fields for t in coded) > 0.98 * len(coded)  # only forms of over 8 parts go without
    assert by_source["oneills1850"].fields["O"] == "irish"
    assert by_source["ryansMammoth"].fields["O"] == "american"
    assert by_source["airdsAirs"].fields["O"] == "scottish"
    train = default_corpus.split("train")
    assert [t.title for t in default_corpus.coded("train")] == [t.title for t in train]  # split as read
    assert any(split_of(c) != split_of(t) for c, t in zip(coded, default_corpus.tunes))  # not as coded
    styles = {t.fields.get("O") for t in coded}
    assert {"irish", "scottish", "american", "german", "chinese"} <= styles


def test_aird_tune_is_normalised(default_corpus):
    gow = next(t for t in default_corpus.tunes if t.title == "Niel Gow." and "airdsAirs" in t.source)
    # M:C| is written 2/2; the stray "I: :: :|" line and the Z: credit are gone
    assert gow.abc.startswith('X:801\nT:Niel Gow.\nM:2/2\nL:1/8\nQ:1/2=90 "Moderato"\nK:G\n')


def test_a_large_book_loads_in_a_small_multiple_of_its_size(tmp_path):
    """Python's allocations while loading stay under 6x the file (measured: 4.2x peak, 2.1x kept)."""
    import tracemalloc

    from musicgen.abc.corpus import music21_corpus_dir

    books = sorted((music21_corpus_dir() / "oneills1850").glob("*.abc"))
    text = "\n\n".join(p.read_bytes().decode("latin-1") for p in books)
    path = tmp_path / "big.abc"
    path.write_text(text, encoding="utf-8")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        corpus = load_corpus([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(corpus.tunes) > 1900 and size > 700_000
    assert peak < 6 * size, f"peak {peak / size:.1f}x the file size"
