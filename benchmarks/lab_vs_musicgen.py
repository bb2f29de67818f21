"""musicgen's recipe against the MIT 6.S191 lab's, side by side on the lab's own data.

Reads ``../shared/data/abc/irish.abc`` (the lab's dataset) with musicgen's
tunebook reader and splits it 90/10 by tune (the corpus hash: buckets 0-89
train, 90-99 held out). Both recipes train on the same 90%; the held-out 10%
is never seen by either, not even for model selection.

- lab: Embedding 256, one LSTM of 1024, batch 8, sequence length 100, Adam
  5e-3, 3000 iterations over random windows of the training tunes joined by
  blank lines, no validation; samples at temperature 1 from a blank line
  until the next blank line (or 1,000 characters).
- musicgen: ``musicgen train``'s recipe (2 x 512 LSTM, whole tunes with
  start/end markers, carried state, warm-up + cosine, clipping, the best
  checkpoint on validation, every tune learnt moved to C) with dropout 0.3
  for this small corpus, on a CPU-time budget no larger than the lab's
  (``--minutes``); its validation tunes are a hashed twentieth of the 90%;
  samples at the CLI's default temperature 0.85, or ``--temperature`` (the
  library's default is 1.0), each moved to a drawn tonic as the CLI does.
  ``--tonic none`` trains on keys as written instead.

Each run writes its figures to ``--out/RECIPE.json`` (``musicgen-T1.0.json``
for another temperature, ``-bars0`` added for ``--bar-tries 0``: bars as
the model first draws them, ``-drafts1`` for ``--end-drafts 1``: each tune
as first drafted); ``--reuse`` samples again from a finished
musicgen run instead of training; ``--table`` prints the comparison.
Held-out bits/char count every tune character plus the cost of ending the tune (the end
marker, or the lab's two newlines), divided by the tune's characters, so both models pay
for the same text. A model that moves keys pays for the tune moved to C plus the bits of
picking its tonic among those training had for its mode (``TonicTable.tonic_bits``),
which is the cost of the tune as written, since the move is exact both ways. Sampled
tunes are scored with ``musicgen evaluate``'s metrics, novelty against the training 90%
as written and again with every tune moved to C (a bar copied into another key then
counts); unreadable samples count as failures.

    python benchmarks/lab_vs_musicgen.py --recipe lab --threads 1
    python benchmarks/lab_vs_musicgen.py --recipe musicgen --minutes 17.5 --threads 1
    python benchmarks/lab_vs_musicgen.py --recipe musicgen --reuse --temperature 1.0
    python benchmarks/lab_vs_musicgen.py --table
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

# a sibling script's helper: benchmarks/ is on the path when a script here runs
from time_to_quality import lab_step
from torch.nn import functional as F

from musicgen.abc.corpus import Corpus, load_corpus, split_of
from musicgen.abc.transpose import transpose_tune
from musicgen.abc.tunebook import Tune, parse_tune
from musicgen.errors import MusicgenError
from musicgen.evaluation.evaluate import (
    NoveltyIndex,
    any_key_index,
    evaluate_tunes,
    novelty_in_any_key,
)
from musicgen.model.config import ModelConfig, TrainConfig
from musicgen.model.lm import CharLM
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.sampler import generate
from musicgen.training.loop import Trainer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "abc" / "irish.abc"
SEPARATOR = "\n\n"
FIGURES = [
    "held_out_bpc",
    "readable",
    "converts",
    "no_abc2midi_errors",
    "bar_consistency",
    "ends_on_tonic",
    "verbatim_bars",
    "shares_4_bars",
    "copies_whole_tune",
    "verbatim_bars_any_key",
    "shares_4_bars_any_key",
    "cpu_minutes",
]


class HeldOutCorpus(Corpus):
    """The 90/10 split: ``test`` is the held-out 10%, ``valid`` a hashed twentieth of the 90%."""

    def split(self, name: str):
        if name == "test":
            return [t for t in self.tunes if split_of(t) != "train"]
        train = [t for t in self.tunes if split_of(t) == "train"]
        if name == "all_train":
            return train
        chosen = [_second_hash(t.text) for t in train]
        return [t for t, pick in zip(train, chosen) if pick == (name == "valid")]


def _second_hash(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 20 == 0


def tune_bits(model: CharLM, ids: list[int], skip: int) -> float:
    """Bits the model spends on ids[skip:], given what comes before."""
    tensor = torch.tensor([ids])
    with torch.no_grad():
        logits, _ = model(tensor[:, :-1])
    loss = F.cross_entropy(logits[0], tensor[0, 1:], reduction="none")
    return float(loss[skip - 1 :].sum()) / math.log(2)


def held_out_bpc(model: CharLM, tunes: list[Tune], lab: bool) -> float:
    """Bits per tune character as written, ending included (see the module docstring)."""
    model.eval()
    vocab, bits = model.vocab, 0.0
    for tune in tunes:
        if lab:
            bits += tune_bits(model, vocab.encode(SEPARATOR + tune.text + SEPARATOR), len(SEPARATOR))
            continue
        text = tune.text
        if model.tonics is not None:
            text = transpose_tune(tune, model.tonics.tonic).text
            bits += model.tonics.tonic_bits(tune.key)
        bits += tune_bits(model, [vocab.start_id, *vocab.encode(text), vocab.end_id], 1)
    return bits / sum(len(tune.text) for tune in tunes)


def train_lab(corpus: HeldOutCorpus, out: Path, iterations: int, seed: int) -> tuple[CharLM, dict]:
    """The lab's loop: random 100-character windows, batch 8, Adam 5e-3."""
    vocab = Vocabulary.from_texts(corpus.texts())
    data = torch.tensor(vocab.encode(SEPARATOR.join(t.text for t in corpus.split("all_train"))))
    torch.manual_seed(seed)
    model = CharLM(
        ModelConfig(vocab_size=len(vocab), embedding_size=256, hidden_size=1024, num_layers=1, dropout=0.0), vocab
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    rng = np.random.default_rng(seed)
    losses, started = [], time.process_time()
    for step in range(1, iterations + 1):
        losses.append(lab_step(model, optimizer, data, rng) / math.log(2))
        if step % 250 == 0:
            print(
                f"  lab iteration {step}: train {np.mean(losses[-100:]):.3f} bits/char, "
                f"{(time.process_time() - started) / 60:.1f} CPU min",
                flush=True,
            )
    cpu = time.process_time() - started
    torch.save(model.state_dict(), out / "lab-model.pt")
    return model, {"cpu_minutes": cpu / 60, "train_bpc_last_100": float(np.mean(losses[-100:]))}


@torch.no_grad()
def sample_lab(model: CharLM, count: int, seed: int, max_length: int = 1000) -> list[str]:
    """Lab-style sampling at temperature 1, all streams at once, from a blank line to the next."""
    model.eval()
    vocab = model.vocab
    generator = torch.Generator().manual_seed(seed)
    logits, state = model(torch.tensor([vocab.encode(SEPARATOR)] * count))
    texts = [""] * count
    for _ in range(max_length):
        probabilities = F.softmax(logits[:, -1].float(), dim=-1)
        chosen = torch.multinomial(probabilities, 1, generator=generator)  # (count, 1)
        for row, index in enumerate(chosen[:, 0].tolist()):
            if not texts[row].endswith(SEPARATOR):
                texts[row] += vocab.decode([index])
        if all(text.endswith(SEPARATOR) for text in texts):
            break
        logits, state = model(chosen, state)
    return [text.split(SEPARATOR)[0] for text in texts]


def train_musicgen(corpus: HeldOutCorpus, out: Path, minutes: float, seed: int, tonic: str) -> tuple[CharLM, dict]:
    """``musicgen train``'s recipe under a CPU-time budget."""
    from musicgen.model.lm import load_model

    config = TrainConfig(
        batch_size=32,
        seq_len=128,
        max_steps=1500,
        warmup_steps=100,
        eval_interval=50,
        patience=0,
        seed=seed,
        device="cpu",
        time_limit=minutes,
        tonic="" if tonic == "none" else tonic,
    )
    started = time.process_time()
    trainer = Trainer(corpus, out / "musicgen-run", ModelConfig(vocab_size=1, dropout=0.3), config)
    result = trainer.run(progress=False)
    cpu = time.process_time() - started
    model = load_model(out / "musicgen-run" / "model.pt")
    return model, {"cpu_minutes": cpu / 60, "best_valid_bpc": result.best_valid_bpc, "steps": trainer.step}


def score(texts: list[str], corpus: HeldOutCorpus) -> dict:
    """``musicgen evaluate``'s summary of sampled texts; unreadable ones count as failures."""
    tunes = []
    for number, text in enumerate(texts, 1):
        try:
            tune = parse_tune(text, source="sampled")
        except MusicgenError:
            continue
        tune.number = number
        tunes.append(tune)
    summary = evaluate_tunes(tunes, corpus.split("test"), NoveltyIndex(corpus.split("all_train")))["summary"]
    readable = len(tunes) / len(texts)
    for key in ("well_formed", "converts", "no_abc2midi_errors"):
        if summary.get(key) is not None:
            summary[key] *= readable
    return {**summary, "readable": readable, **any_key_figures(tunes, corpus)}


def any_key_figures(tunes: list[Tune], corpus: HeldOutCorpus) -> dict:
    """Verbatim bars and 4+ shared bars with every tune moved to C, so a bar copied into another key counts."""
    figures = novelty_in_any_key(tunes, any_key_index(corpus.split("all_train")))
    return {"verbatim_bars_any_key": figures["verbatim_bars"], "shares_4_bars_any_key": figures["shares_4_bars"]}


def run(recipe: str, args: argparse.Namespace) -> None:
    corpus = HeldOutCorpus(load_corpus([args.data]).tunes)
    print(
        f"{len(corpus.split('all_train'))} training tunes ({len(corpus.split('valid'))} of them musicgen's "
        f"validation), {len(corpus.split('test'))} held out",
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    name = recipe if recipe == "lab" or args.temperature == 0.85 else f"{recipe}-T{args.temperature}"
    if recipe != "lab" and args.bar_tries != 8:
        name += f"-bars{args.bar_tries}"
    if recipe != "lab" and args.end_drafts != 4:
        name += f"-drafts{args.end_drafts}"
    if recipe == "lab":
        model, figures = train_lab(corpus, args.out, args.iterations, args.seed)
        texts = sample_lab(model, args.tunes, args.seed)
    else:
        if args.reuse:
            from musicgen.model.lm import load_model

            model, figures = load_model(args.out / "musicgen-run"), json.loads((args.out / "musicgen.json").read_text())
        else:
            model, figures = train_musicgen(corpus, args.out, args.minutes, args.seed, args.tonic)
        sampled = generate(
            model,
            n=args.tunes,
            seed=args.seed,
            temperature=args.temperature,
            bar_tries=args.bar_tries,
            end_drafts=args.end_drafts,
        )
        texts = [t.abc.split("\n", 1)[1] for t in sampled]  # in their final keys, without X:
    figures["held_out_bpc"] = held_out_bpc(model, corpus.split("test"), lab=recipe == "lab")
    figures.update(score(texts, corpus))
    (args.out / f"{name}-samples.abc").write_text("".join(f"X:{i}\n{t.rstrip()}\n\n" for i, t in enumerate(texts, 1)))
    (args.out / f"{name}.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps({k: figures.get(k) for k in FIGURES}, indent=1))


def table(args: argparse.Namespace) -> None:
    corpus = HeldOutCorpus(load_corpus([args.data]).tunes)
    real = evaluate_tunes(corpus.split("test"), corpus.split("test"), NoveltyIndex(corpus.split("all_train")))
    rows = {
        "held-out real tunes": {**real["summary"], "readable": 1.0, **any_key_figures(corpus.split("test"), corpus)}
    }
    for path in sorted(args.out.glob("*.json")):
        rows[path.stem] = json.loads(path.read_text())
    print("| | " + " | ".join(FIGURES) + " |")
    print("|---" * (len(FIGURES) + 1) + "|")
    for name, figures in rows.items():
        cells = [f"{figures[k]:.3f}" if isinstance(figures.get(k), float) else "-" for k in FIGURES]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=["lab", "musicgen"])
    parser.add_argument("--table", action="store_true", help="print the comparison of finished runs")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--iterations", type=int, default=3000, help="the lab's training iterations")
    parser.add_argument("--minutes", type=float, default=24.0, help="musicgen's training-time budget")
    parser.add_argument("--temperature", type=float, default=0.85, help="musicgen's sampling temperature")
    parser.add_argument(
        "--bar-tries", type=int, default=8, help="musicgen's bar redraws (the CLI's default; 0: bars as first drawn)"
    )
    parser.add_argument(
        "--end-drafts",
        type=int,
        default=4,
        help="musicgen's whole drafts per tune (the CLI's default; 1: each tune as first drafted)",
    )
    parser.add_argument("--tonic", default="C", help="musicgen's --tonic (none: keys as written)")
    parser.add_argument("--reuse", action="store_true", help="sample from the finished musicgen run, no training")
    parser.add_argument("--tunes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("outputs/lab-vs-musicgen"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.table:
        table(args)
    elif args.recipe:
        run(args.recipe, args)
    else:
        parser.error("give --recipe lab|musicgen or --table")


if __name__ == "__main__":
    main()
