"""Sentiment classification on the shared recurrent core (the lecture's many-to-one model).

Cheat-sheet::

    from musicgen import sentiment

    model = sentiment.load_sentiment_model()          # bundled model; or a checkpoint path
    model.predict(["The food was good, not bad at all."])   # [probability positive]
    print(model.explain("not good at all"))           # each word's share of the score

    train = sentiment.read_examples("train.txt")      # text<TAB>label, label text or CSV
    fit, valid = sentiment.split_examples(train)
    result = sentiment.train_classifier(fit, valid)   # SentimentConfig / SentimentTrainConfig
    result.model.save("sentiment.pt")
    print(sentiment.evaluate_classifier(result.model, valid))
"""

from musicgen.tasks.sentiment.classifier import Explanation, SentimentModel, load_sentiment_model
from musicgen.tasks.sentiment.data import DataError, Example, read_examples, read_sentences, split_examples
from musicgen.tasks.sentiment.model import SentimentConfig
from musicgen.tasks.sentiment.train import (
    Metrics,
    SentimentTrainConfig,
    TrainedClassifier,
    cross_validate,
    evaluate_classifier,
    train_classifier,
)

__all__ = [
    "DataError",
    "Example",
    "Explanation",
    "Metrics",
    "SentimentConfig",
    "SentimentModel",
    "SentimentTrainConfig",
    "TrainedClassifier",
    "cross_validate",
    "evaluate_classifier",
    "load_sentiment_model",
    "read_examples",
    "read_sentences",
    "split_examples",
    "train_classifier",
]
