import sys

from lowart.cli import main

sys.exit(main())
