"""Machine translation on the shared recurrent core (the lecture's encoder-decoder with attention).

Cheat-sheet::

    from musicgen import translate

    model = translate.load_translation_model()        # bundled English->French; or a checkpoint path
    result = model.translate(["I am cold."], beam=5)[0]
    print(result.text)                                # detokenised, cased
    translate.plot_attention(result, "attention.png") # alignment heat map

    train = translate.read_parallel("train.de", "train.en")     # or read_tsv_pairs("fra.txt")
    # each language gets a subword vocabulary (sentencepiece) learnt from train
    valid = translate.read_parallel("val.de", "val.en")
    run = translate.train_translator(train, valid, ("de", "en"))
    run.model.save("de-en.pt")
    bleu, chrf, signature = translate.corpus_bleu(run.model, valid, beam=5)
"""

from musicgen.tasks.translate.data import (
    Pair,
    ParallelDataError,
    read_parallel,
    read_tsv_pairs,
    sample_pairs,
    split_pairs,
)
from musicgen.tasks.translate.model import TranslatorConfig
from musicgen.tasks.translate.plot import plot_attention
from musicgen.tasks.translate.subword import SubwordVocab
from musicgen.tasks.translate.train import TrainedTranslator, TranslateTrainConfig, corpus_bleu, train_translator
from musicgen.tasks.translate.translator import Translation, TranslationModel, load_translation_model

__all__ = [
    "Pair",
    "ParallelDataError",
    "TranslateTrainConfig",
    "SubwordVocab",
    "TrainedTranslator",
    "Translation",
    "TranslationModel",
    "TranslatorConfig",
    "corpus_bleu",
    "load_translation_model",
    "plot_attention",
    "read_parallel",
    "read_tsv_pairs",
    "sample_pairs",
    "split_pairs",
    "train_translator",
]
