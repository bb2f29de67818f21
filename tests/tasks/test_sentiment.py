"""Sentiment classification: data formats, padding, order, explanations, checkpoints, CLI."""

from __future__ import annotations

import random

import pytest
import torch
from click.testing import CliRunner

from musicgen.cli.main import main
from musicgen.errors import CheckpointError
from musicgen.tasks.sentiment import (
    DataError,
    Example,
    SentimentConfig,
    SentimentTrainConfig,
    load_sentiment_model,
    read_examples,
    split_examples,
    train_classifier,
)
from musicgen.tasks.sentiment.classifier import SentimentModel
from musicgen.tasks.sentiment.compare import ORDER_PAIR, compare_models
from musicgen.tasks.sentiment.data import folds
from musicgen.tasks.sentiment.model import build_classifier
from musicgen.tasks.text import WordVocab, subword_ids, tokenize_words

SUBJECTS = ["the food", "the service", "the movie", "the room", "our waiter", "the plot", "the music", "this phone"]
GOOD, BAD = ["good", "great", "fine", "lovely"], ["bad", "awful", "poor", "terrible"]


def order_dataset(n: int, seed: int = 0) -> list[Example]:
    """Sentences whose label depends on word order: 'X was good, not bad' is positive."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        subject, good, bad = rng.choice(SUBJECTS), rng.choice(GOOD), rng.choice(BAD)
        positive = rng.random() < 0.5
        first, second = (good, bad) if positive else (bad, good)
        ending = rng.choice([" at all", "", " really"])
        examples.append(Example(f"{subject.capitalize()} was {first}, not {second}{ending}.", int(positive)))
    return examples


@pytest.fixture(scope="module")
def order_models():
    """The recurrent model and the bag of words, trained on the order-dependent data."""
    data = order_dataset(600)
    train, valid = split_examples(data, 0.15)
    settings = SentimentTrainConfig(epochs=12, patience=0, learning_rate=1e-2, seed=1)
    small = SentimentConfig(vocab_size=1, embedding_size=16, hidden_size=24, dropout=0.0, embedding_dropout=0.0)
    rows = compare_models(train, valid, order_dataset(200, seed=2), small, settings, kinds=("bow", "rnn"))
    return {row.kind: row for row in rows}


def test_tab_format_splits_on_the_last_tab_without_quoting(tmp_path):
    path = tmp_path / "imdb.txt"
    path.write_text('A "quoted\tword" film.  \t1\nDull.\t0\n\nAwful\tawful.\tneg\n')
    examples = read_examples(path)
    assert examples == [Example('A "quoted\tword" film.', 1), Example("Dull.", 0), Example("Awful\tawful.", 0)]


def test_a_next_line_character_inside_a_sentence_does_not_split_it(tmp_path):
    path = tmp_path / "imdb.txt"
    path.write_bytes("The script is\u0085was there a script?  \t0\r\nFine.\t1\n".encode())
    assert read_examples(path) == [Example("The script is\u0085was there a script?", 0), Example("Fine.", 1)]


def test_label_first_format(tmp_path):
    path = tmp_path / "stsa.binary.dev"
    path.write_text("1 a stirring , funny film\n0 one long string of cliches .\n")
    assert read_examples(path) == [Example("a stirring , funny film", 1), Example("one long string of cliches .", 0)]


def test_csv_with_named_and_chosen_columns(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('id,review,sentiment\n1,"Great, really great",positive\n2,Bad,negative\n')
    assert read_examples(path) == [Example("Great, really great", 1), Example("Bad", 0)]
    other = tmp_path / "other.csv"
    other.write_text("words,y\nfine,1\n")
    with pytest.raises(DataError, match="no text column"):
        read_examples(other)
    assert read_examples(other, text_column="words", label_column="y") == [Example("fine", 1)]


def test_glue_tsv_with_a_header_reads_columns_by_name(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\nhide new secretions from the parental units \t0\nthat loves its characters \t1\n")
    assert read_examples(path) == [
        Example("hide new secretions from the parental units", 0),
        Example("that loves its characters", 1),
    ]
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("id\tlabel\tsentence\n7\t1\tfine\n")
    assert read_examples(swapped) == [Example("fine", 1)]
    assert read_examples(swapped, text_column="id", label_column="label") == [Example("7", 1)]


@pytest.mark.parametrize(
    "content, message",
    [
        ("sentence\tlabel\ngood film\n", r"train\.tsv:2: 1 tab-separated fields, the header has 2"),
        ("sentence\tlabel\ngood\tfilm\t1\n", r"train\.tsv:2: 3 tab-separated fields, the header has 2"),
        ("sentence\tlabel\n  \t1\n", r"train\.tsv:2: empty text"),
        ("sentence\tlabel\ngood film\tmaybe\n", r"train\.tsv:2: unknown label 'maybe'"),
        ("sentence\tlabel\n", "no labelled sentences under the header"),
    ],
)
def test_bad_headed_tsv_names_the_line(tmp_path, content, message):
    path = tmp_path / "train.tsv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_examples(path)


def test_a_sentence_that_reads_like_a_header_is_still_data(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("the sentence has a label\t1\n")
    assert read_examples(path) == [Example("the sentence has a label", 1)]


@pytest.mark.parametrize(
    "content, message",
    [
        ("good film\t1\nbad film\tmaybe\n", r"bad\.txt:2: unknown label 'maybe'"),
        ("good film\t1\n0 bad film\n", r"bad\.txt:2: expected 'text<TAB>label'"),
        ("1 good film\nbad film\t0\n", r"bad\.txt:2: expected 'label text'"),
        ("\n\n   \n", "no labelled sentences"),
    ],
)
def test_bad_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_examples(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_examples(tmp_path / "absent.txt")


def test_tokenizer_splits_like_the_penn_treebank():
    assert tokenize_words("It wasn't BAD, it's great!") == ["it", "was", "n't", "bad", ",", "it", "'s", "great", "!"]


def test_vocabulary_min_freq_and_unknown_words():
    vocab = WordVocab.build([["a", "b", "a"], ["a", "c", "b"]], min_freq=2)
    assert vocab.words == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]
    assert vocab.encode(["a", "zebra"]) == [4, vocab.unk_id]
    with pytest.raises(ValueError):
        WordVocab.build([["a"]], min_freq=0)


def test_split_and_folds_keep_repeated_sentences_together():
    data = [Example(f"sentence {i % 50}", i % 2) for i in range(400)]
    kept, held = split_examples(data, 0.2)
    assert {e.text for e in kept}.isdisjoint({e.text for e in held}) and held
    parts = folds(data, 5)
    assert sum(map(len, parts)) == 400
    assert all({e.text for e in a}.isdisjoint({e.text for e in b}) for a in parts for b in parts if a is not b)


@pytest.mark.parametrize(
    "kind, pooling, bidirectional",
    [
        ("rnn", "max", True),
        ("rnn", "mean", True),
        ("rnn", "last", True),
        ("rnn", "last", False),
        ("bow", "max", True),
        ("window", "max", True),
    ],
)
@pytest.mark.parametrize("buckets", [0, 50])
def test_padding_and_batch_company_do_not_change_scores(kind, pooling, bidirectional, buckets):
    torch.manual_seed(0)
    config = SentimentConfig(
        vocab_size=30,
        kind=kind,
        pooling=pooling,
        bidirectional=bidirectional,
        embedding_size=8,
        hidden_size=6,
        subword_buckets=buckets,
    )
    model = SentimentModel(build_classifier(config).eval(), WordVocab(f"w{i}" for i in range(26)))
    short, long = "w5 w6 w7", "w8 w9 unseen w11 w12 w13 w14 w15"
    alone = model.predict([short])
    together = model.predict([short, long, "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11"], batch_size=3)
    assert alone[0] == pytest.approx(together[0], abs=1e-6)


def test_subwords_let_unseen_words_count():
    assert subword_ids("funny", 1000) == subword_ids("funny", 1000)  # stable hashing
    assert set(subword_ids("unfunny", 1000)) & set(subword_ids("funny", 1000))
    data = [Example(f"The {w} film.", 1) for w in ("funny", "witty", "charming")] * 30
    data += [Example(f"The {w} film.", 0) for w in ("dull", "boring", "tedious")] * 30
    run = train_classifier(
        data,
        data,
        SentimentConfig(
            vocab_size=1, subword_buckets=2000, hidden_size=8, embedding_size=8, dropout=0.0, embedding_dropout=0.0
        ),
        SentimentTrainConfig(epochs=15, learning_rate=1e-2, patience=0),
        progress=False,
    )
    unseen = run.model.predict(["The funnyish film.", "The boringish film."])
    assert unseen[0] > unseen[1]  # both words are <unk>; only their n-grams tell them apart


def test_recurrent_model_learns_word_order_and_bag_of_words_cannot(order_models):
    rnn, bow = order_models["rnn"], order_models["bow"]
    assert rnn.test.accuracy >= 0.95
    assert rnn.order_pair_opposite and rnn.order_pair[0] > 0.5
    # The same words in another order are the same bag: identical scores.
    assert bow.order_pair[0] == pytest.approx(bow.order_pair[1], abs=1e-6)
    assert bow.test.accuracy < 0.75


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_explanations_sum_to_the_logit(pooling):
    data = order_dataset(200)
    run = train_classifier(
        data[:160],
        data[160:],
        SentimentConfig(vocab_size=1, pooling=pooling, hidden_size=8, embedding_size=8),
        SentimentTrainConfig(epochs=2),
        progress=False,
    )
    explanation = run.model.explain("The food was good, not zebra at all.")
    logit = torch.logit(torch.tensor(explanation.probability, dtype=torch.float64)).item()
    bias = run.model.net.head.bias.item()
    assert sum(explanation.contributions) == pytest.approx(logit - bias, abs=1e-3)
    assert explanation.words[6] == "zebra" and not explanation.known[6]


def test_checkpoint_round_trip_and_wrong_task(tmp_path, order_models, tiny_run):
    data = order_dataset(100)
    run = train_classifier(
        data[:80],
        data[80:],
        SentimentConfig(vocab_size=1, hidden_size=8, embedding_size=8),
        SentimentTrainConfig(epochs=1),
        progress=False,
    )
    run.model.save(tmp_path / "s.pt")
    loaded = load_sentiment_model(tmp_path / "s.pt")
    sentences = [e.text for e in data[80:]] + ["", "qwerty zxcv"]
    assert loaded.predict(sentences) == pytest.approx(run.model.predict(sentences), abs=1e-6)
    with pytest.raises(CheckpointError, match="not a sentiment model"):
        load_sentiment_model(tiny_run / "model.pt")


def test_bundled_model_reads_the_lectures_pair_in_order():
    model = load_sentiment_model()
    good_not_bad, bad_not_good = model.predict(list(ORDER_PAIR))
    assert good_not_bad > 0.5 > bad_not_good
    assert model.predict(["I loved it, wonderful.", "Terrible, a waste of money."]) == [
        pytest.approx(1, abs=0.4),
        pytest.approx(0, abs=0.4),
    ]


def _write_data(path, examples):
    path.write_text("".join(f"{e.text}\t{e.label}\n" for e in examples))
    return path


def test_cli_train_predict_evaluate(tmp_path):
    runner = CliRunner()
    train_file = _write_data(tmp_path / "train.txt", order_dataset(300))
    test_file = _write_data(tmp_path / "test.txt", order_dataset(60, seed=3))
    out = tmp_path / "model.pt"
    result = runner.invoke(
        main,
        [
            "sentiment",
            "train",
            str(train_file),
            "--out",
            str(out),
            "--epochs",
            "3",
            "--hidden-size",
            "16",
            "--embedding-size",
            "16",
            "--quiet",
            "--test",
            str(test_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "model in" in result.output and out.is_file()
    result = runner.invoke(main, ["sentiment", "predict", "--model", str(out), "The room was great.", "qwerty"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    assert result.output.split("\t")[1] in ("positive", "negative")
    result = runner.invoke(
        main, ["sentiment", "predict", "--model", str(out), "--explain"], input="The food was bad, not good.\n\n"
    )
    assert result.exit_code == 0 and "bad(" in result.output
    result = runner.invoke(main, ["sentiment", "evaluate", str(test_file), "--model", str(out)])
    assert result.exit_code == 0 and "accuracy" in result.output and "confusion" in result.output


def test_cli_bad_input_gives_one_line_and_keeps_existing_files(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.txt"
    bad.write_text("fine\t1\nworse\tmeh\n")
    out = tmp_path / "model.pt"
    result = runner.invoke(main, ["sentiment", "train", str(bad), "--out", str(out)])
    assert result.exit_code == 1 and "bad.txt:2: unknown label" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    out.write_text("precious")
    good = _write_data(tmp_path / "good.txt", order_dataset(50))
    result = runner.invoke(main, ["sentiment", "train", str(good), "--out", str(out)])
    assert result.exit_code == 1 and "--force" in result.output and out.read_text() == "precious"
    result = runner.invoke(main, ["sentiment", "predict", "--model", str(out), "hello"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    result = runner.invoke(main, ["sentiment", "train", str(good), "--out", str(tmp_path / "x.pt"), "--dropout", "1.5"])
    assert result.exit_code == 2 and "dropout" in result.output
    result = runner.invoke(main, ["sentiment", "predict"], input="\n  \n")
    assert result.exit_code == 2 and "no sentences" in result.output


def test_an_empty_validation_split_is_one_line(tmp_path):
    data = _write_data(tmp_path / "two.txt", order_dataset(2))
    result = CliRunner().invoke(main, ["sentiment", "train", str(data), "--out", str(tmp_path / "m.pt"), "--quiet"])
    assert result.exit_code == 1 and "validation 0" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "m.pt").exists()
