import sys

from babelir.cli import main

sys.exit(main())
