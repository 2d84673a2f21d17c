r"""Where pipeline YAML written before 0.x finds :class:`audemo.Transcription`.

Stored pipelines name the class ``$audemo.core.transcription.Transcription``;
it lives in :mod:`audemo.core.conversation.transcription` now.
No module of audemo imports this one.
"""

from audemo.core.conversation.transcription import Transcription


__all__ = ["Transcription"]
