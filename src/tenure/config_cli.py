"""`tenure config`: show, validate and initialise tenure.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tenure.config import Settings, load_config, write_default_config
from tenure.errors import ConfigError
from tenure.kit.cli import HomeOpt, JsonOpt, console, err_console, print_json

app = typer.Typer(
    help="Show, check and initialise the configuration (tenure.toml).", no_args_is_help=True
)

FileArg = Annotated[
    Path | None,
    typer.Argument(help="File to check; default tenure.toml in --home.", show_default=False),
]


@app.command("validate")
def validate(file: FileArg = None, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Check tenure.toml and name the exact key and problem for every mistake."""
    path = file or Settings.load(home).config_path
    if not path.exists():
        err_console.print(f"[red]error:[/red] {path} does not exist")
        raise typer.Exit(2)
    try:
        load_config(path)
    except ConfigError as exc:
        if json_out:
            print_json(
                {
                    "valid": False,
                    "file": str(path),
                    "problems": [{"key": key, "message": msg} for key, msg in exc.problems],
                }
            )
        else:
            err_console.print(f"[red]{path}: {len(exc.problems)} problem(s)[/red]")
            for key, msg in exc.problems:
                err_console.print(f"  [bold]{key}[/bold]: {msg}")
        raise typer.Exit(1) from None
    if json_out:
        print_json({"valid": True, "file": str(path), "problems": []})
    else:
        console.print(f"[green]{path} is valid[/green]")


@app.command("init")
def init(home: HomeOpt = None) -> None:
    """Write the shipped defaults to tenure.toml in --home (never overwrites)."""
    path = Settings.load(home).config_path
    if write_default_config(path):
        console.print(f"wrote {path}")
    else:
        console.print(f"{path} exists; left unchanged")


@app.command("show")
def show(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Print the effective configuration."""
    config = load_config(Settings.load(home).config_path)
    if json_out:
        print_json(config.model_dump(mode="json"))
    else:
        console.print_json(data=config.model_dump(mode="json"))
