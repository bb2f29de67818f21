"""The secondary tasks on the shared recurrent core: sentiment (many-to-one) and translation (encoder-decoder)."""
