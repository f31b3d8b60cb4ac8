"""`dlgrade doctor`'s tables: versions, then the sandbox layers and whether each is active."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.tools.doctor import Diagnosis


def render(diagnosis: Diagnosis, console: Console) -> None:
    table = Table(title="dlgrade doctor", title_justify="left")
    table.add_column("component")
    table.add_column("version / state", overflow="fold")
    for name, value in diagnosis.versions:
        table.add_row(name, Text(value))
    console.print(table)
    layers = Table(title="sandbox layers", title_justify="left")
    layers.add_column("layer")
    layers.add_column("active")
    layers.add_column("detail", overflow="fold")
    for layer in diagnosis.layers:
        layers.add_row(layer.name, Text("yes" if layer.active else "no",
                                        style="green" if layer.active else "yellow"), Text(layer.detail))
    console.print(layers)
    for problem in diagnosis.problems:
        console.print(Text(f"problem: {problem}", style="bold red"))
