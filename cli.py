"""`python cli.py ...` is `ksol ...` from a checkout."""

import sys

from solutions.cli import main

if __name__ == "__main__":
    sys.exit(main())
