"""``python -m glacier.cli``: the ``glacier`` command."""

from glacier.cli import main

main()
