"""``python -m integration`` runs the ``journey`` command."""
from integration.cli import main

main()
