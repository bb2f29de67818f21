"""The ``musicgen`` command line (click): a thin shell over the library; the entry point is :func:`main`."""
