import sys

from geneb.cli import main

sys.exit(main())
