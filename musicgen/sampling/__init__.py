"""Writing new tunes with a trained language model, under the rules that keep them playable."""
