"""musicgen: learn folk music in ABC notation and compose new tunes.

Cheat-sheet of the public API (everything also has a CLI command)::

    import musicgen

    model = musicgen.load_model()            # bundled model; or a path to a checkpoint
    config = musicgen.SampleConfig(temperature=0.9, seed=1)
    tunes = musicgen.generate(model, n=4, config=config, header={"K": "Dmix", "M": "6/8"})
    print(tunes[0].abc)                      # the tune's ABC text
    musicgen.save_tunes(tunes, "outputs/my-tunes", formats=("abc", "mid", "wav"))

    musicgen.abc_to_midi(tunes[0].abc, "tune.mid")   # one tune as MIDI, chord symbols as bass and chords
    musicgen.abc_to_midi(abc, "tune.mid", musicgen.Sound(instrument="fiddle", accompaniment=False))
    band = musicgen.accompany(musicgen.abc_to_melody(abc))   # the bass and chord notes themselves
    musicgen.midi_to_wav("tune.mid", "tune.wav")     # 48 kHz, SoundFont synthesis
    score = musicgen.abc_to_musicxml(tunes[0].abc)   # MusicXML bytes, for notation programs
    musicgen.play("tune.mid")                        # MIDI port or sound card

    corpus = musicgen.load_corpus()          # music21's folk collections, cleaned
    tunes, skipped = musicgen.parse_tunebook(open("book.abc").read())
    in_d = musicgen.transpose_tune(tunes[0], "D")   # the same tune with tonic D
    result = musicgen.train(run_dir="outputs/my-model",
                            model_config=musicgen.ModelConfig(vocab_size=1, hidden_size=256),
                            train_config=musicgen.TrainConfig(max_steps=1000, tonic="C"))

The secondary tasks reuse the same recurrent core::

    musicgen.sentiment.load_sentiment_model().predict(["Not bad at all."])
    musicgen.translate.load_translation_model().translate(["I am cold."])[0].text

Errors a user can fix raise :class:`musicgen.MusicgenError`.
Heavy dependencies (torch, music21) load on first use, so ``import musicgen``
is quick.
"""

from importlib import import_module

__version__ = "0.1.0"

# Public name -> module that defines it; imported on first access.
_EXPORTS = {
    "MusicgenError": "musicgen.errors",
    "CorpusError": "musicgen.errors",
    "CheckpointError": "musicgen.errors",
    "SamplingError": "musicgen.errors",
    "ModelConfig": "musicgen.model.config",
    "TrainConfig": "musicgen.model.config",
    "SampleConfig": "musicgen.model.config",
    "Tune": "musicgen.abc.tunebook",
    "parse_tunebook": "musicgen.abc.tunebook",
    "parse_tune": "musicgen.abc.tunebook",
    "Corpus": "musicgen.abc.corpus",
    "load_corpus": "musicgen.abc.corpus",
    "Vocabulary": "musicgen.model.vocab",
    "RecurrentCore": "musicgen.model.core",
    "CharLM": "musicgen.model.lm",
    "train": "musicgen.training.loop",
    "load_model": "musicgen.model.lm",
    "generate": "musicgen.sampling.sampler",
    "generate_batches": "musicgen.sampling.sampler",
    "export_model": "musicgen.model.lm",
    "evaluate_tunes": "musicgen.evaluation.evaluate",
    "GeneratedTune": "musicgen.sampling.sampler",
    "header_fields": "musicgen.sampling.sampler",
    "recommended_config": "musicgen.model.lm",
    "save_tunes": "musicgen.render.output",
    "Saved": "musicgen.render.output",
    "ConversionError": "musicgen.errors",
    "transpose_tune": "musicgen.abc.transpose",
    "abc_to_melody": "musicgen.abc.melody",
    "Melody": "musicgen.abc.melody",
    "abc_to_midi": "musicgen.render.midi",
    "Sound": "musicgen.render.midi",
    "accompany": "musicgen.abc.accompaniment",
    "midi_to_wav": "musicgen.render.audio",
    "abc_to_musicxml": "musicgen.render.musicxml",
    "play": "musicgen.render.playback",
}

__all__ = sorted(_EXPORTS)


#: Subpackages reachable as attributes on first use (``musicgen.sentiment``...).
_SUBPACKAGES = {
    "sentiment": "musicgen.tasks.sentiment",
    "translate": "musicgen.tasks.translate",
    "lab": "musicgen.lab",
    "pictures": "musicgen.render.pictures",
}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return import_module(_SUBPACKAGES[name])
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'musicgen' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
