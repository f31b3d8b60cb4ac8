"""dlgrade's engine, one room per workflow: grading/ (one submission), sandbox/ (running
untrusted code), specs/ (the cases), interop/ (Gradescope, nbgrader), classroom/ (a class),
quiz/, tools/, ui/ (Rich rendering). See README.md, "Layout"."""

__version__ = "0.1.0"
