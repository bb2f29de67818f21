"""The networks and what they are made of: configuration, the recurrent core, the language model, vocabulary,
one-step inference and persistence."""
