"""The course server (`dlgrade serve`) and its data: roster, receipts, hand-ins, dashboard.

Importing this package is cheap; only grader.server.app needs FastAPI (the `server` extra).
"""
