"""Allow ``python -m musicgen``."""

from musicgen.cli import main

if __name__ == "__main__":
    main()
