r"""Pictures of predictions (needs the ``plot`` extra: matplotlib)."""

from audemo.core.plot import circumplex
from audemo.core.plot import timeline
