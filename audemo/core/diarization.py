r"""Where pipeline YAML written before 0.x finds :class:`audemo.Diarization`.

Stored pipelines name the class ``$audemo.core.diarization.Diarization``;
it lives in :mod:`audemo.core.conversation.diarization` now.
No module of audemo imports this one.
"""

from audemo.core.conversation.diarization import Diarization


__all__ = ["Diarization"]
