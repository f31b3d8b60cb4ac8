"""Errors the person at the keyboard caused: the CLI prints them as one line, exit 2."""


class UserError(Exception):
    """A bad path, an unknown assignment, a malformed file: not a bug, and not the student's code."""
