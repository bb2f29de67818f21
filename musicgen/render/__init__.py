"""A tune made audible and visible: MIDI, WAV, sheet music and plots, playback, and the files they go to."""
