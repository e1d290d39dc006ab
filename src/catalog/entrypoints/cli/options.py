"""Options and settings shared by the `catalog` commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    # Typer 0.29 carries its own copy of click: its commands take that copy's Context.
    from typer._click import Context

    from catalog.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="PATH",
        help="Data folder (default: $CATALOG_DATA_DIR or .catalog).",
    ),
]


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with the command line's overrides on top."""
    from catalog.settings import Settings

    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)  # type: ignore[arg-type]


def aws_endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or "AWS"


def name_values_not_types(params: list[Any]) -> None:
    """Typer labels every option with its Python type (`<bool>`, `<list[str]>`); a user needs
    what the value is instead. Flags take no value, so they show none; an option with fixed
    values lists them (`--from TRIM_HORIZON|LATEST`); any other option without an explicit
    metavar shows its long name (`--log-level LOG_LEVEL`)."""
    for param in params:
        if param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else _value_name(param)
        if getattr(param, "param_type_name", "") == "argument":
            # An argument's metavar names it already (FILE): no `<path>` beside it.
            param.display_type_rich = lambda ctx: None


def _value_name(param: Any) -> str:
    described = getattr(param, "type_descriptor", None)
    choices = described.choices if described is not None and described.is_choice else None
    if choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in choices)
    long_names = [opt for opt in param.opts if opt.startswith("--")]
    name = long_names[0].removeprefix("--") if long_names else param.name
    return str(name).replace("-", "_").upper()


class CatalogGroup(TyperGroup):
    """Every `catalog` group: labels the options of its commands and subgroups before help
    or a usage error shows them, so commands added anywhere get the same treatment."""

    def get_params(self, ctx: Context) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        name_values_not_types(params)
        return params

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            name_values_not_types(command.get_params(ctx))
        return command

    def invoke(self, ctx: Context) -> Any:
        """A setting the composition root refuses (bootstrap.ConfigurationError) is the
        user's to fix: its message alone, on stderr, and exit status 2; no traceback."""
        from catalog.bootstrap import ConfigurationError

        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            typer.echo(f"catalog: {error}", err=True)
            raise typer.Exit(2) from error
