"""Training the language model: batches of whole tunes, the loop, and several processes under torchrun."""
