"""`--config FILE` and `--print-config`: a command's options read from a file, and written as one.

- FILE is TOML with every option of the command as a key under its own name, as on the
  command line without the dashes (`population = 32`, `early-stop = "none"`,
  `data = ["digits", "cifar10"]`; `early_stop` reads the same). A comma-separated option
  also takes a list.
- An option given on the command line overrides the file.
- A key that is no option of the command, or a value of the wrong type, is a one-line
  error naming the valid keys (exit 2).
- An earlier run's `config.json` (or its run directory) is a template: the command's
  options that its settings give (`jaxgp.search.run_settings.options_of`), never its
  directory (`--out`, `--resume`).
- `--print-config` writes the effective options as TOML on stdout (what each command
  computes from them: a search's settings with its scale's values filled in) and runs
  nothing; that output is a valid FILE.

`configurable` adds both options to a Typer command function.
"""

from __future__ import annotations

import difflib
import inspect
import json
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from jaxgp.cli.toml_writer import toml_table
from jaxgp.errors import ConfigError

ConfigPath = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="Read the options from this TOML file (or an earlier run's config.json as a "
        "template); options given here override it.",
    ),
]
PrintConfig = Annotated[
    bool,
    typer.Option("--print-config", help="Print the effective options as TOML and run nothing."),
]
FROM_COMMAND_LINE = ("COMMANDLINE", "ENVIRONMENT", "PROMPT")
"""Where a value counts as given, so that a file does not replace it (click's
`ParameterSource` names)."""


@dataclass(frozen=True)
class Key:
    """One option of a command as a key of a config file."""

    name: str  # the Python parameter
    key: str  # the long option without its dashes
    kind: type  # int, float, str or bool
    many: bool = False  # a list (of `kind`)


def _base(annotation: Any) -> tuple[type, bool]:
    """(element type, whether a list) of `int | None`, `list[str]`, `bool`..."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (annotation,) = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def keys_of(function: Callable) -> dict[str, Key]:
    """The options of a Typer command function (not its arguments), by key."""
    keys = {}
    for parameter in resolved(function):
        name, hint = parameter.name, parameter.annotation
        metadata = getattr(hint, "__metadata__", ())
        info = next((m for m in metadata if isinstance(m, typer.models.OptionInfo)), None)
        if info is None:  # an argument, or Typer's context
            continue
        decls = list(info.param_decls or ())
        if isinstance(info.default, str) and info.default.startswith("-"):
            decls.insert(0, info.default)  # `Option("--json")` under Annotated holds it there
        longs = [d for d in decls if d.startswith("--")]
        key = longs[0][2:] if longs else name.replace("_", "-")
        kind, many = _base(typing.get_args(hint)[0])
        keys[key] = Key(name, key, kind, many)
    return keys


_KINDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _scalar(value: Any, kind: type) -> Any:
    """`value` as `kind`, or None if it is not one (a bool is no number)."""
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind is int:
        return value if isinstance(value, int) else None
    if kind is float:
        return float(value) if isinstance(value, int | float) else None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):  # `candidates-per-batch = 4`, `learning-rates = 1e-3`
        return str(value)
    if isinstance(value, list) and all(_scalar(v, str) is not None for v in value):
        return ",".join(_scalar(v, str) for v in value)  # a comma-separated option
    return None


def convert(value: Any, key: Key, source: str) -> Any:
    """The value of `key` in the file `source`, checked; `ConfigError` if of the wrong type."""
    if key.many:
        items = value if isinstance(value, list) else [value]
        converted = [_scalar(item, key.kind) for item in items]
        if all(item is not None for item in converted):
            return converted
        wanted = f"a list of {_KINDS[key.kind].removeprefix('an ').removeprefix('a ')}s"
    else:
        converted = _scalar(value, key.kind)
        if converted is not None:
            return converted
        wanted = _KINDS[key.kind]
    raise ConfigError(f"{source}: {key.key} must be {wanted}, got {value!r}")


def unknown_key(key: str, keys: Mapping[str, Key], source: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(keys), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return ConfigError(
        f"{source}: unknown key {key!r}{hint}; valid keys: {', '.join(sorted(keys))}"
    )


def read_file(path: str, keys: Mapping[str, Key], template: Callable[[dict], dict]) -> dict:
    """The option values FILE gives, by parameter name; `template(settings)` turns a run's
    stored settings into option values by key."""
    file = Path(path)
    if file.is_dir():
        file = file / "config.json"
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise ConfigError(f"--config {file}: {error.strerror or error}") from None
    if file.suffix == ".json":
        source = f"{file} (as a template)"
        values = keyed(_template(raw, file, template), keys)
    else:
        try:
            values = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"--config {file} is not valid TOML: {error}") from None
        source = str(file)
    found = {}
    for key, value in values.items():
        spec = keys.get(key) or keys.get(key.replace("_", "-"))
        if spec is None:
            raise unknown_key(key, keys, source)
        found[spec.name] = convert(value, spec, source)
    return found


def _template(raw: bytes, file: Path, template: Callable[[dict], dict]) -> dict:
    try:
        stored = json.loads(raw)
    except ValueError as error:
        raise ConfigError(f"--config {file} is not valid JSON: {error}") from None
    if not isinstance(stored, dict) or stored.get("format") != "jaxgp-run":
        raise ConfigError(f"--config {file} is not a jaxgp run's config.json")
    return template(stored["settings"])


def configurable(
    function: Callable,
    *,
    effective: Callable[[dict], dict],
    template: Callable[[dict], dict] | None = None,
) -> Callable:
    """`function` (a Typer command) with `--config FILE` and `--print-config`.

    `effective(values)` gives the option values to print, from the values the command would
    run with; `template(settings)` the option values that a run's stored settings give
    (None: a config.json is refused); both by parameter name."""
    keys = keys_of(function)

    def no_template(settings: dict) -> dict:
        raise ConfigError("this command takes no run's config.json as a template")

    def command(
        ctx: typer.Context, config: ConfigPath = None, print_config: PrintConfig = False,
        **given: Any,
    ) -> None:  # fmt: skip
        if config is not None:
            for name, value in read_file(config, keys, template or no_template).items():
                if ctx.get_parameter_source(name).name not in FROM_COMMAND_LINE:
                    given[name] = value
        if print_config:
            comment = (
                f"jaxgp {ctx.info_name} --config FILE reads these options; those given on "
                "the command line override them"
            )
            typer.echo(toml_table(keyed(effective(given), keys), comment), nl=False)
            return
        function(**given)

    ctx, *options = [p for p in resolved(command) if p.kind is not inspect.Parameter.VAR_KEYWORD]
    command.__signature__ = inspect.Signature([ctx, *resolved(function), *options])
    command.__doc__ = function.__doc__
    command.__name__ = function.__name__
    return command


def resolved(function: Callable) -> list[inspect.Parameter]:
    """The parameters of `function` with their annotations as objects (a signature set on a
    function, as `__signature__`, already holds them)."""
    if "__signature__" in vars(function):
        return list(function.__signature__.parameters.values())
    hints = typing.get_type_hints(function, include_extras=True)
    return [p.replace(annotation=hints[name])
            for name, p in inspect.signature(function).parameters.items()]  # fmt: skip


def keyed(values: Mapping[str, Any], keys: Mapping[str, Key]) -> dict:
    """`values` by parameter name as option values by key, in the command's order, leaving
    out what is unset (None, or a flag that is off)."""
    return {key: values[spec.name] for key, spec in keys.items()
            if values.get(spec.name) is not None and values[spec.name] is not False}  # fmt: skip
