r"""Pictures of predictions (needs the ``plot`` extra: matplotlib)."""

from audemo.core.plot import circumplex
from audemo.core.plot import confusion
from audemo.core.plot import conversation
from audemo.core.plot import timeline
from audemo.core.plot import transcript
