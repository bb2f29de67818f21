"""Train the character language model on a corpus of tunes.

A run directory holds ``model.pt`` (the best checkpoint by validation
bits/char), ``last.pt`` (the latest, for ``--resume``), ``log.jsonl`` (one
JSON object per validation) and ``curves.png`` (its plot, redrawn at each
validation). Validation happens at batch boundaries, so a
resumed run continues exactly where the checkpoint left off.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from musicgen.abc.corpus import Corpus, load_corpus
from musicgen.abc.transpose import TonicTable, move_tunes
from musicgen.errors import CorpusError, MusicgenError
from musicgen.files import atomic_write, clear_cut_short_writes
from musicgen.model.checkpoint import load_checkpoint, save_checkpoint
from musicgen.model.config import ModelConfig, TrainConfig, recommended_sampling
from musicgen.model.core import detach_state
from musicgen.model.device import check_bf16, pick_device
from musicgen.model.lm import CharLM, bits_per_char
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.familiar import header_counts
from musicgen.training.data import (
    encode_positions,
    encode_tunes,
    epoch_batches,
    input_windows,
    pad_batch,
    window_counts,
    windows,
)
from musicgen.training.distributed import any_rank, device_for, placement, wrap
from musicgen.training.measures import evaluate_bpc, learning_rate_factor

logger = logging.getLogger(__name__)


@dataclass
class _Window:
    """Bits and characters trained on since the last validation, and when that stretch began."""

    bits: float = 0.0
    chars: float = 0.0
    start: float = field(default_factory=time.perf_counter)
    mark: float = field(default_factory=time.perf_counter)

    def restart(self) -> None:
        self.bits = self.chars = 0.0
        self.start = self.mark = time.perf_counter()


@dataclass
class TrainResult:
    """What a training run ended with."""

    run_dir: Path
    step: int
    best_valid_bpc: float
    stopped: str  # "finished", "early stopping" or "interrupted"
    echo: str = ""  # the echo's fitted weights and what they buy (musicgen.training.echo)


class Trainer:
    """One training run: model, optimizer, data and the loop over them."""

    def __init__(
        self,
        corpus: Corpus,
        run_dir: Path,
        model_config: ModelConfig | None,
        config: TrainConfig,
        resume: dict | None = None,
        corpus_paths: list[str] | None = None,
    ):
        self.run_dir = Path(run_dir)
        self.corpus_paths = corpus_paths  # kept in checkpoints: a resumed run reads the same tunes
        self.config = config
        self.place = placement()
        self.device = device_for(self.place, pick_device(config.device))
        torch.manual_seed(config.seed)
        train_split, valid_split = corpus.coded("train"), corpus.coded("valid")  # form and style codes written in
        self.tonics = TonicTable.from_tunes(train_split, config.tonic) if config.tonic else None
        self.header_counts = header_counts(train_split)
        if config.tonic:
            train_split, valid_split = move_tunes(train_split, config.tonic), move_tunes(valid_split, config.tonic)
        texts = corpus.texts() + ([tune.text for tune in train_split + valid_split] if config.tonic else [])
        if resume is not None:
            earlier = resume.get("train_config", {}).get("tonic", "")
            if earlier != config.tonic:
                raise MusicgenError(
                    f"the run moved its tunes to tonic {earlier or 'none'!r}: "
                    f"it cannot resume with {config.tonic or 'none'!r}"
                )
            vocab = Vocabulary(resume["vocab"])
            unknown = vocab.unknown("".join(texts))
            if unknown:
                raise CorpusError(f"the corpus has characters the checkpoint never saw: {unknown!r}")
            model_config = ModelConfig.from_dict(resume["model_config"])
        else:
            vocab = Vocabulary.from_texts(texts)
            base = model_config or ModelConfig(vocab_size=len(vocab))
            model_config = ModelConfig.from_dict({**base.to_dict(), "vocab_size": len(vocab)})
        self.train_tunes = encode_tunes([tune.text for tune in train_split], vocab)
        self.valid_tunes = encode_tunes([tune.text for tune in valid_split], vocab)
        self.valid_texts = [tune.text for tune in valid_split]  # the echo is fitted on them at the end
        # Each symbol's form position, for a model that reads them (one array per tune, else None).
        self.train_positions = self.valid_positions = None
        if model_config.form_positions:
            self.train_positions = encode_positions([tune.text for tune in train_split])
            self.valid_positions = encode_positions(self.valid_texts)
        if not self.train_tunes or not self.valid_tunes:
            raise CorpusError(
                f"the corpus needs tunes in both splits (train {len(self.train_tunes)}, "
                f"valid {len(self.valid_tunes)}): give it more tunes"
            )
        if config.precision == "bf16":
            check_bf16(self.device, model_config.cell)  # a clear error now, not a kernel error at step 1
        self.model = CharLM(model_config, vocab).to(self.device)
        self.model.tonics = self.tonics
        self.net = wrap(self.model, self.place, self.device)  # what training calls: DDP under torchrun
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.step, self.epoch, self.batch_index = 0, 0, 0
        self.best_bpc, self.bad_evals, self.elapsed = math.inf, 0, 0.0
        if resume is not None:
            self._restore(resume)

    def _restore(self, data: dict) -> None:
        self.model.load_state_dict({k: v.float() for k, v in data["model"].items()})
        if data.get("optimizer"):
            self.optimizer.load_state_dict(data["optimizer"])
        progress = data.get("progress", {})
        self.step = data.get("step", 0)
        self.epoch = progress.get("epoch", 0)
        self.batch_index = progress.get("batch_index", 0)
        self.best_bpc = progress.get("best_bpc", math.inf)
        self.bad_evals = progress.get("bad_evals", 0)
        self.elapsed = progress.get("elapsed_s", 0.0)
        if "rng_state" in progress:
            torch.set_rng_state(progress["rng_state"])

    def _payload(self, with_optimizer: bool = True) -> dict:
        return {
            "task": "lm",
            "model_config": self.model.config.to_dict(),
            "train_config": self.config.to_dict(),
            "vocab": self.model.vocab.chars,
            "tonics": self.tonics.to_dict() if self.tonics else None,
            "sampling": recommended_sampling(),
            "header_counts": self.header_counts,
            "corpus_paths": self.corpus_paths,
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict() if with_optimizer else None,
            "progress": {
                "epoch": self.epoch,
                "batch_index": self.batch_index,
                "best_bpc": self.best_bpc,
                "bad_evals": self.bad_evals,
                "elapsed_s": self.elapsed,
                "rng_state": torch.get_rng_state(),
            },
        }

    def _train_batch(self, batch: list[int], after_step=None) -> tuple[float, float]:
        """One batch of training tunes (their indices), window by window; under torchrun this
        process's share of them.

        ``after_step(bits, chars)`` is called after each optimizer step; the
        batch stops early where it returns True.
        """
        tunes = [self.train_tunes[i] for i in batch]
        lengths = [len(t) for t in tunes]
        ids, mask = pad_batch(tunes[self.place.rank :: self.place.world], max(lengths))
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = None
        if self.train_positions is not None:
            ours = [self.train_positions[i] for i in batch][self.place.rank :: self.place.world]
            positions = pad_batch(ours, max(lengths))[0].to(self.device)
        # Characters counted in each window across the whole batch, so every
        # process divides by the same number and DDP's average is the batch mean.
        totals = window_counts(lengths, self.config.seq_len)
        state = None
        batch_bits, batch_chars = 0.0, 0.0
        cuts = zip(windows(ids, mask, self.config.seq_len), input_windows(positions, self.config.seq_len), totals)
        for (inputs, targets, target_mask), input_positions, total in cuts:
            if self.step >= self.config.max_steps:
                break
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.learning_rate * learning_rate_factor(self.step, self.config)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.precision == "bf16"):
                logits, state = self.net(inputs, state, input_positions)
            bits, count = bits_per_char(logits.float(), targets, target_mask)
            loss = bits * self.place.world / max(total, 1)
            if not torch.isfinite(loss):
                raise MusicgenError(
                    f"training diverged at step {self.step} (loss is {loss.item()}); "
                    f"the last good checkpoint is {self.run_dir / 'last.pt'}: "
                    "resume with a lower --learning-rate"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
            self.optimizer.step()
            state = detach_state(state)
            self.step += 1
            step_bits = bits.item() * self.place.world  # an estimate from this process's share
            batch_bits += step_bits
            batch_chars += total
            if after_step is not None and after_step(step_bits, total):
                break
        return batch_bits, batch_chars

    def _validate(self, train_bpc: float, chars_per_s: float, save_last: bool = True) -> bool:
        """Validate, log, checkpoint; True when training should stop early.

        ``save_last`` False leaves last.pt to the end of the batch under way,
        so that it always resumes from a batch boundary.
        """
        valid_bpc = evaluate_bpc(
            self.model, self.valid_tunes, self.config.batch_size, self.config.seq_len, self.valid_positions
        )
        improved = valid_bpc < self.best_bpc
        if improved:
            self.best_bpc, self.bad_evals = valid_bpc, 0
        else:
            self.bad_evals += 1
        if not self.place.leader:  # every process validates alike; one writes
            return bool(self.config.patience) and self.bad_evals >= self.config.patience
        record = {
            "step": self.step,
            "epoch": self.epoch,
            "train_bpc": round(train_bpc, 4),
            "valid_bpc": round(valid_bpc, 4),
            "chars_per_s": round(chars_per_s),
            "elapsed_s": round(self.elapsed, 1),
        }
        with open(self.run_dir / "log.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        logger.info("step %d: valid %.4f bits/char", self.step, valid_bpc)
        self._plot_curves()
        if improved:
            save_checkpoint(self.run_dir / "model.pt", self._payload(with_optimizer=False))
        if save_last:
            save_checkpoint(self.run_dir / "last.pt", self._payload())
        return bool(self.config.patience) and self.bad_evals >= self.config.patience

    def _plot_curves(self) -> None:
        """Redraw curves.png beside log.jsonl; a plotting problem never stops training."""
        from musicgen.render.pictures import training_curves_png

        try:
            png = training_curves_png(self.run_dir / "log.jsonl")
            atomic_write(self.run_dir / "curves.png", lambda file: file.write(png))
        except (MusicgenError, OSError, ImportError, ValueError) as error:
            logger.warning("could not draw the training curves: %s", error)

    def run(self, progress: bool = True) -> TrainResult:
        """Train until ``max_steps``, early stopping, or Ctrl-C."""
        from tqdm import tqdm

        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in ("model.pt", "last.pt", "curves.png") if self.place.leader else ():
            clear_cut_short_writes(self.run_dir / name)
        bar = tqdm(
            total=self.config.max_steps,
            initial=self.step,
            disable=not progress or not self.place.leader,
            unit="step",
            dynamic_ncols=True,
        )
        self.window = _Window()
        self.outcome: dict[str, str] = {}
        stopped = "finished"
        self.stop_requested = False
        previous_handler = _catch_interrupt(self)
        try:
            result = self._epochs(bar)
            if result is not None:
                return result
        except KeyboardInterrupt:
            stopped = "interrupted"
            if self.place.leader:
                save_checkpoint(self.run_dir / "last.pt", self._payload())
        finally:
            bar.close()
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
        return self._result(stopped)

    def _epochs(self, bar) -> TrainResult | None:
        """Batches until ``max_steps``; the result where training stopped early, else None."""
        lengths = [len(t) for t in self.train_tunes]
        window = self.window
        while self.step < self.config.max_steps:
            batches = epoch_batches(lengths, self.config.batch_size, self.config.seed, self.epoch)
            while self.batch_index < len(batches) and self.step < self.config.max_steps:
                window.mark, before = time.perf_counter(), self.step
                bits, chars = self._train_batch(batches[self.batch_index], self._after_step)
                self.batch_index += 1
                self.elapsed += time.perf_counter() - window.mark
                bar.update(self.step - before)
                if self.outcome.pop("validated", None) and self.place.leader:
                    save_checkpoint(self.run_dir / "last.pt", self._payload())
                if "stopped" in self.outcome:
                    return self._result(self.outcome["stopped"])
                if self.stop_requested:
                    raise KeyboardInterrupt
                rate = window.chars / max(time.perf_counter() - window.start, 1e-9)
                bar.set_postfix(
                    bpc=f"{bits / max(chars, 1):.3f}",
                    valid=f"{self.best_bpc:.3f}",
                    chars_s=f"{rate:,.0f}",
                    epoch=self.epoch,
                )
            if self.batch_index >= len(batches):
                self.epoch, self.batch_index = self.epoch + 1, 0
        return None

    def _after_step(self, bits: float, chars: float) -> bool:
        """Validate at every multiple of eval_interval, at max_steps and at the time limit; True to stop."""
        window = self.window
        window.bits += bits
        window.chars += chars
        now = time.perf_counter()
        self.elapsed, window.mark = self.elapsed + now - window.mark, now  # training time, to this step
        out_of_time = bool(self.config.time_limit) and any_rank(self.elapsed >= self.config.time_limit * 60, self.place)
        if not (self.step % self.config.eval_interval == 0 or self.step >= self.config.max_steps or out_of_time):
            return False
        rate = window.chars / max(time.perf_counter() - window.start, 1e-9)
        self.outcome["validated"] = "yes"
        if self._validate(window.bits / max(window.chars, 1), rate, save_last=False):
            self.outcome["stopped"] = "early stopping"
        elif out_of_time:
            self.outcome["stopped"] = "time limit"
        window.restart()  # validation is not training time
        return "stopped" in self.outcome

    def _result(self, stopped: str) -> TrainResult:
        return TrainResult(self.run_dir, self.step, self.best_bpc, stopped)


def _catch_interrupt(trainer: Trainer):
    """Make Ctrl-C finish the current batch, so last.pt resumes exactly.

    Returns the previous SIGINT handler, or None outside the main thread.
    A second Ctrl-C interrupts at once.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if trainer.stop_requested:
            raise KeyboardInterrupt
        trainer.stop_requested = True
        logger.warning("stopping after this batch (Ctrl-C again to stop at once)")

    signal.signal(signal.SIGINT, handler)
    return previous


#: What a run folder holds; a new run refuses a folder with any of them unless forced.
RUN_FILES = ("model.pt", "last.pt", "log.jsonl", "curves.png")


def train(
    corpus_paths: list[Path] | None = None,
    run_dir: Path = Path("outputs/train"),
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    resume: Path | None = None,
    progress: bool = True,
    force: bool = False,
) -> TrainResult:
    """Train a character language model and write its checkpoints.

    Args:
        corpus_paths: ``.abc`` files or folders; None uses the default corpus.
        run_dir: folder for ``model.pt``, ``last.pt`` and ``log.jsonl``.
        model_config: the model's shape (ignored when resuming).
        train_config: training settings; when resuming, None keeps the
            checkpoint's settings.
        resume: a ``last.pt`` checkpoint (or its run folder) to continue from;
            without ``corpus_paths`` it reads the corpus the run was trained on.
        progress: show a progress bar on stderr.
        force: replace a run already in ``run_dir`` (without it, and without
            ``resume``, such a folder is refused).

    Returns:
        A :class:`TrainResult` with the best validation bits/char.

    Raises:
        MusicgenError: bad corpus, checkpoint or options, or a diverged run.
    """
    state = None
    earlier = [name for name in RUN_FILES if (Path(run_dir) / name).exists()]
    if earlier and resume is None:
        if not force:
            raise MusicgenError(
                f"{run_dir} already holds a run ({', '.join(earlier)}): use --resume to continue "
                "it, --force to replace it, or another --out"
            )
        for name in earlier:  # a new run starts its own log
            (Path(run_dir) / name).unlink()
    if resume is not None:
        resume = Path(resume)
        state = load_checkpoint(resume / "last.pt" if resume.is_dir() else resume)
        if train_config is None and state.get("train_config"):
            train_config = TrainConfig.from_dict(state["train_config"])
    if corpus_paths is None and state is not None and state.get("corpus_paths"):
        corpus_paths = [Path(p) for p in state["corpus_paths"]]  # the run's own corpus
    corpus = load_corpus(corpus_paths)
    kept = [str(Path(p).resolve()) for p in corpus_paths] if corpus_paths else None
    trainer = Trainer(corpus, run_dir, model_config, train_config or TrainConfig(), resume=state, corpus_paths=kept)
    result = trainer.run(progress=progress)
    best = Path(run_dir) / "model.pt"
    if trainer.place.leader and best.exists():
        from musicgen.training.echo import add_echo

        result.echo = str(add_echo(best, trainer.valid_texts, progress))
    return result
