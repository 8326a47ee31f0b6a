"""``python -m waitpoints.cli`` is the ``waitpoints`` command."""

from . import main

main()
