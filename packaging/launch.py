"""Entry point of the frozen launchers (Parcours and parcours-cli): the same main() as `python main.py`."""
import sys

from main import main

if __name__ == "__main__":
    sys.exit(main())
