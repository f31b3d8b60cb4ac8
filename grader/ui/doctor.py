"""`dlgrade doctor`'s tables: versions, then the sandbox layers and whether each is active
(with --scheduler: one page per worker of a cluster)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.tools.doctor import Diagnosis, Layer


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


def render_workers(reports: list[dict[str, Any]], console: Console) -> None:
    """One `dlgrade doctor` page per worker (as probed there), then which workers
    grade-batch would refuse."""
    weak = []
    for report in reports:
        console.rule(f"worker {report['address']}")
        layers = [Layer(name, bool(active), detail) for name, active, detail in report["layers"]]
        render(Diagnosis(versions=[tuple(v) for v in report["versions"]], layers=layers,
                         problems=list(report["problems"])), console)
        if not all(layer.active for layer in layers if layer.name.startswith("bwrap")):
            weak.append(report["address"])
    if weak:
        console.print(Text(f"{len(weak)} of {len(reports)} worker(s) without bwrap: "
                           f"{', '.join(weak)}; grade-batch refuses them unless "
                           "--allow-weak-sandbox", style="yellow"))
    else:
        console.print(Text(f"all {len(reports)} worker(s) have every sandbox layer of bwrap",
                           style="green"))
