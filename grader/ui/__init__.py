"""Rich rendering for the terminal: what cli.py prints. Nothing here computes a grade."""
