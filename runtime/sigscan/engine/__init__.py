"""Sans-IO detection engine: one state machine per port (see :mod:`sigscan.engine.events`).

No asyncio, socket, ssl or time imports here; a test enforces it.
"""
