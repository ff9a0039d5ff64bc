"""``python -m heliarch``: the command line."""

from heliarch.cli import main

main()
