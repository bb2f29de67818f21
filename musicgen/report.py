"""Plain-text summaries for the command line."""

from __future__ import annotations

import statistics
from collections import Counter

from musicgen.corpus import Corpus, split_of
from musicgen.vocab import Vocabulary


def corpus_report(corpus: Corpus) -> str:
    """Tunes per source and split, skipped tunes by reason, vocabulary and lengths."""
    per_source = Counter(corpus.collections)
    splits = Counter((source, split_of(t)) for source, t in zip(corpus.collections, corpus.tunes))
    lines = [f"{'source':<24}{'tunes':>7}{'train':>7}{'valid':>7}{'test':>7}"]
    for source, count in sorted(per_source.items()):
        row = [splits[(source, s)] for s in ("train", "valid", "test")]
        lines.append(f"{source:<24}{count:>7}{row[0]:>7}{row[1]:>7}{row[2]:>7}")
    totals = [sum(splits[(s, name)] for s in per_source) for name in ("train", "valid", "test")]
    lines.append(f"{'total':<24}{len(corpus.tunes):>7}{totals[0]:>7}{totals[1]:>7}{totals[2]:>7}")
    lines.append("")
    lines.append(f"skipped: {len(corpus.skipped)} tunes")
    for reason, count in corpus.skip_reasons().most_common():
        lines.append(f"  {count:>6}  {reason}")
    texts = corpus.texts()
    vocab = Vocabulary.from_texts(texts)
    shown = "".join(c for c in vocab.chars[2:] if c.isprintable())
    lines.append("")
    lines.append(f"vocabulary: {len(vocab)} symbols (characters plus tune start and end): {shown!r}")
    lengths = [len(t) for t in texts]
    lines.append(
        f"tune length in characters: min {min(lengths)}, median {statistics.median(lengths):.0f}, "
        f"mean {statistics.mean(lengths):.0f}, max {max(lengths)}; total {sum(lengths):,}"
    )
    return "\n".join(lines)
