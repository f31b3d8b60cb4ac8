"""nbformat, imported without a one-second detour.

nbformat validates with jsonschema, whose format checker, when the optional
`rfc3987_syntax` is installed (Jupyter's event schemas pull it in), compiles about forty
lark grammars at import: a second per process. Notebook validation never checks IRI
formats, so jsonschema is shown that module as absent while nbformat is imported; after
that, anyone may import it as usual.
"""

from __future__ import annotations

import sys

_SLOW_OPTIONAL = "rfc3987_syntax"
_hidden = _SLOW_OPTIONAL not in sys.modules
if _hidden:
    sys.modules[_SLOW_OPTIONAL] = None  # type: ignore[assignment]  # import raises ImportError
try:
    import nbformat
    import nbformat.v4  # noqa: F401  (the validator is imported with it)
finally:
    if _hidden:
        del sys.modules[_SLOW_OPTIONAL]

__all__ = ["nbformat"]
