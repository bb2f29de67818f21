"""ABC notation in pure Python (no torch): tunebooks, keys, the melody a tune sounds, transposition, the corpus."""
