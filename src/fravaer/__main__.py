"""``python -m fravaer``."""

from fravaer.entry import main

main()
