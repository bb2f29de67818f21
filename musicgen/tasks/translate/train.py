"""Training the translator: teacher forcing, label smoothing, best weights by BLEU.

The conventions are the music model's: a progress bar, a seed, Adam with
gradient clipping, validation after each epoch, early stopping, device
choice, a time limit and one checkpoint file written atomically.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from musicgen.errors import CorpusError
from musicgen.extras import need
from musicgen.model.config import Settings, check_positive
from musicgen.model.core import pad_sequences
from musicgen.model.device import pick_device
from musicgen.tasks.translate.data import Pair
from musicgen.tasks.translate.model import Translator, TranslatorConfig
from musicgen.tasks.translate.subword import SubwordVocab, check_vocab_size
from musicgen.tasks.translate.translator import TranslationModel
from musicgen.training.data import shuffled_batches

logger = logging.getLogger(__name__)


@dataclass
class TranslateTrainConfig(Settings):
    """How the translator is trained.

    Attributes:
        batch_size: sentence pairs per step.
        learning_rate: Adam's starting learning rate; halved after each
            epoch that does not improve validation BLEU.
        epochs: passes over the training pairs at most.
        patience: epochs without a better validation BLEU before stopping
            (0 never stops early).
        clip_norm: gradient-norm clipping threshold.
        label_smoothing: share of each target's probability spread over the vocabulary.
        vocab_size: subword pieces per language at most (a small corpus
            gets fewer), learnt from the training pairs.
        max_pieces: training pairs with a side longer than this, in pieces, are skipped.
        time_limit: stop after this many minutes (0: no limit), validating first.
        seed: seed for weights, batch order and dropout.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
    """

    batch_size: int = 64
    learning_rate: float = 2e-3
    epochs: int = 12
    patience: int = 3
    clip_norm: float = 1.0
    label_smoothing: float = 0.1
    vocab_size: int = 8000
    max_pieces: int = 100
    time_limit: float = 0.0
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("batch_size", "learning_rate", "epochs", "clip_norm", "max_pieces"):
            check_positive(name, getattr(self, name))
        check_vocab_size(self.vocab_size)
        if self.patience < 0 or self.time_limit < 0 or not 0 <= self.label_smoothing < 1:
            raise ValueError("patience and time_limit must be 0 or more, label_smoothing in 0..1")


@dataclass
class TrainedTranslator:
    """A finished run: the model with the best validation BLEU, and its history."""

    model: TranslationModel
    best_bleu: float
    epochs: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    stopped: str = "epochs"


def _batches(encoded: list[tuple[list[int], list[int]]], batch_size: int, generator: torch.Generator):
    """Batches of pairs of similar source length, in random order: sources, their lengths, targets."""
    for chunk in shuffled_batches([(len(s), len(t)) for s, t in encoded], batch_size, generator):
        sources, lengths = pad_sequences([encoded[i][0] for i in chunk])
        targets, _ = pad_sequences([[SubwordVocab.bos_id, *encoded[i][1], SubwordVocab.eos_id] for i in chunk])
        yield sources, lengths, targets


def corpus_bleu(model: TranslationModel, pairs: list[Pair], beam: int = 1):
    """sacreBLEU and chrF of the model's translations of ``pairs`` (cased, detokenised, 13a)."""
    metrics = need("sacrebleu.metrics")
    BLEU, CHRF = metrics.BLEU, metrics.CHRF

    hypotheses = [t.text for t in model.translate([p.source for p in pairs], beam=beam)]
    references = [[p.target for p in pairs]]
    bleu, chrf = BLEU(), CHRF()
    return bleu.corpus_score(hypotheses, references), chrf.corpus_score(hypotheses, references), bleu.get_signature()


def _encode(pairs: list[Pair], model: TranslationModel, max_pieces: int) -> list[tuple[list[int], list[int]]]:
    """Source ids (ending in ``<eos>``) and target ids of the pairs no longer than ``max_pieces``."""
    encoded = [(model.source_ids(p.source), model.target_vocab.encode(p.target)) for p in pairs]
    return [(s, t) for s, t in encoded if 1 < len(s) <= max_pieces + 1 and 0 < len(t) <= max_pieces]


def train_translator(
    train: list[Pair],
    valid: list[Pair],
    languages: tuple[str, str],
    config: TranslatorConfig | None = None,
    train_config: TranslateTrainConfig | None = None,
    progress: bool = True,
    init: TranslationModel | None = None,
) -> TrainedTranslator:
    """Train on ``train`` and keep the weights with the best greedy BLEU on ``valid``.

    Args:
        languages: source and target ISO codes (``de``, ``en``, ``fr``...),
            kept with the model as labels.
        config: the model's shape; its vocabulary sizes are set from the
            subword vocabularies learnt on ``train``.
        init: a trained translator to go on training (its shape, subword
            vocabularies, languages and weights; ``config`` and ``languages``
            are then not used). The
            optimiser starts afresh, so a lower learning rate suits it.
    """
    from tqdm import tqdm

    train_config = train_config or TranslateTrainConfig()
    if not train or not valid:
        raise CorpusError(
            f"training needs pairs in both splits (train {len(train)}, validation {len(valid)}): "
            "give more pairs, or a validation file"
        )
    torch.manual_seed(train_config.seed)
    device = pick_device(train_config.device)
    if init is not None:
        net = init.net.float().to(device)
        own = (init.source_language, init.target_language)
        model = TranslationModel(net, init.source_vocab, init.target_vocab, *own, train_config)
    else:
        source_vocab = SubwordVocab.train((p.source for p in train), train_config.vocab_size)
        target_vocab = SubwordVocab.train((p.target for p in train), train_config.vocab_size)
        settings = (config or TranslatorConfig(1, 1)).to_dict()
        config = TranslatorConfig.from_dict(
            {**settings, "source_vocab_size": len(source_vocab), "target_vocab_size": len(target_vocab)}
        )
        model = TranslationModel(Translator(config).to(device), source_vocab, target_vocab, *languages, train_config)
    encoded = _encode(train, model, train_config.max_pieces)
    if not encoded:
        raise CorpusError(f"every training pair is longer than {train_config.max_pieces} pieces: raise --max-pieces")
    optimizer = torch.optim.Adam(model.net.parameters(), lr=train_config.learning_rate)
    generator = torch.Generator().manual_seed(train_config.seed)
    steps_per_epoch = math.ceil(len(encoded) / train_config.batch_size)
    best, best_state, waited, history, stopped = -1.0, None, 0, [], "epochs"
    started = time.monotonic()
    out_of_time = lambda: train_config.time_limit and time.monotonic() - started > train_config.time_limit * 60  # noqa: E731
    bar = tqdm(total=train_config.epochs * steps_per_epoch, disable=not progress, unit="batch", desc="translator")
    for epoch in range(1, train_config.epochs + 1):
        model.net.train()
        total, words = 0.0, 0
        for sources, lengths, targets in _batches(encoded, train_config.batch_size, generator):
            sources, lengths, targets = sources.to(device), lengths.to(device), targets.to(device)
            logits, _ = model.net(sources, lengths, targets[:, :-1])
            loss = F.cross_entropy(
                logits.flatten(0, 1),
                targets[:, 1:].flatten(),
                ignore_index=SubwordVocab.pad_id,
                label_smoothing=train_config.label_smoothing,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.net.parameters(), train_config.clip_norm)
            optimizer.step()
            count = int((targets[:, 1:] != SubwordVocab.pad_id).sum())
            total, words = total + loss.item() * count, words + count
            bar.update()
            bar.set_postfix(loss=f"{total / words:.3f}")
            if out_of_time():
                break
        bleu = corpus_bleu(model, valid)[0].score
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / max(words, 1),
                "valid_bleu": bleu,
                "learning_rate": optimizer.param_groups[0]["lr"],
                "seconds": time.monotonic() - started,
            }
        )
        logger.info("epoch %d: loss %.3f, valid BLEU %.2f", epoch, total / max(words, 1), bleu)
        bar.set_postfix(loss=f"{total / words:.3f}", bleu=f"{bleu:.1f}")
        if bleu > best:
            best, waited = bleu, 0
            best_state = {k: v.detach().clone() for k, v in model.net.state_dict().items()}
        else:
            waited += 1
            for group in optimizer.param_groups:
                group["lr"] /= 2
        if train_config.patience and waited >= train_config.patience:
            stopped = "early stopping"
            break
        if out_of_time():
            stopped = "time limit"
            break
    bar.close()
    if best_state is not None:
        model.net.load_state_dict(best_state)
    model.net.eval()
    model.metrics = {"valid_bleu_greedy": best, "epochs": epoch, "history": history}
    return TrainedTranslator(model, best, epoch, time.monotonic() - started, history, stopped)
