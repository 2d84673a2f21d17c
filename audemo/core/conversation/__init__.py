r"""Conversations: who speaks when, what was said, emotion per speaker."""
