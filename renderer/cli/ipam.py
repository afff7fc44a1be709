"""`as3-gitops ipam allocate`: write ipam-allocations.yaml for every ipamLabel without an address."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from renderer.cli.app import app
from renderer.errors import InvalidInput
from renderer.fileio import write_all_atomic
from renderer.report import write_findings

ipam_app = typer.Typer(help="IP address allocation for ipamLabel (CIS's F5 IPAM controller, as a reviewed file).",
                       no_args_is_help=True)
app.add_typer(ipam_app, name="ipam")


def allocate_repository(repo: Path) -> tuple[bool, list]:
    """Allocate for the working tree of `repo` and write the file when it changes; (changed, findings)."""
    from renderer.ipam_allocate import allocate_tree
    from renderer.mapping.ipam import ALLOCATIONS_FILE, dump_allocations

    text, findings = allocate_tree(repo)
    if text is None:
        return False, findings
    path = repo / ALLOCATIONS_FILE
    if not path.is_file() and text == dump_allocations({}):
        return False, findings  # nothing asks for an address: no file to review
    changed = not path.is_file() or path.read_bytes() != text
    if changed:
        write_all_atomic({path: text})
    return changed, findings


@ipam_app.command("allocate")
def allocate_command(
    repo: Path = typer.Argument(Path("."), help="The configuration repository (working tree)."),
) -> int:
    """Give every ipamLabel request an address from as3-gitops.yaml's ipam: ranges (existing ones stay)."""
    changed, findings = allocate_repository(repo)
    if any(f.is_error for f in findings):
        raise InvalidInput(findings)
    from renderer.mapping.ipam import ALLOCATIONS_FILE

    write_findings(findings, sys.stderr, "text")
    sys.stderr.write(f"{'wrote' if changed else 'unchanged:'} {repo / ALLOCATIONS_FILE}\n")
    return 0
