r"""Emotion categories: a head trained on the embedding."""
