"""``python -m glacier``: the ``glacier`` command."""

from glacier.cli import main

main()
