"""The local web page (``musicgen serve``); needs the ``web`` extra (starlette, uvicorn)."""
