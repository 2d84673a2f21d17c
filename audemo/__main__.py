import sys

from audemo.core.cli import main


sys.exit(main())
