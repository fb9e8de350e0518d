"""``python -m fravaer``."""

from fravaer.cli import main

main()
