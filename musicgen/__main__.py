"""Allow ``python -m musicgen``."""

from musicgen.cli.main import main

if __name__ == "__main__":
    main()
