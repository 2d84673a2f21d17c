r"""Pictures of predictions.

The pictures need the ``plot`` extra (matplotlib);
:func:`transcript` writes an HTML page and needs nothing more.
"""

from audemo.core.plot import circumplex
from audemo.core.plot import confusion
from audemo.core.plot import conversation
from audemo.core.plot import timeline
from audemo.core.plot import transcript
