r"""``python -m audemo``: the ``audemo`` command, see :mod:`audemo.core.cli`."""

import sys

from audemo.core.cli import main


if __name__ == "__main__":
    sys.exit(main())
