"""Scoring tunebooks (well-formed, bars, keys, structure, novelty) and the bounded abc2midi oracle."""
