"""CLI options made from configuration dataclasses: one name, type, default and description per field.

A field ``hidden_size`` becomes ``--hidden-size`` with the field's type and
default, and with the help its class's ``Attributes`` docstring section gives
it, so the options, the dataclasses and the API reference cannot disagree.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing

import click

#: Fields whose values come from a fixed list, shown as click choices.
_CHOICES = {
    "cell": ("lstm", "gru", "rnn"),
    "nonlinearity": ("tanh", "relu"),
    "precision": ("fp32", "bf16"),
    "device": ("auto", "cpu", "cuda", "mps"),
}


#: The :class:`musicgen.render.midi.Sound` fields that ``generate`` and ``convert`` offer as options
#: (``--instrument`` and ``--bpm`` are their own).
ACCOMPANIMENT_OPTIONS = ("accompaniment", "chord_instrument", "bass_instrument")


def field_help(cls: type) -> dict[str, str]:
    """Each field's description, from the ``Attributes:`` section of ``cls``'s docstring, as one line."""
    doc = cls.__doc__ or ""
    section = doc.split("Attributes:", 1)[1] if "Attributes:" in doc else ""
    descriptions: dict[str, str] = {}
    name = None
    for line in section.splitlines():
        entry = re.match(r"\s{4,8}(\w+): (.*)", line)
        if entry and len(line) - len(line.lstrip()) <= 8:
            name, text = entry.groups()
            descriptions[name] = text
        elif name and line.strip():
            descriptions[name] += " " + line.strip()
        elif name and not line.strip() and descriptions:
            name = None
    return {key: re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "'") for key, text in descriptions.items()}


def _click_type(field_type):
    """int, float, str or bool for ``int | None`` and friends."""
    if isinstance(field_type, types.UnionType) or typing.get_origin(field_type) is typing.Union:
        field_type = next(t for t in typing.get_args(field_type) if t is not type(None))
    return field_type


def config_options(cls: type, only: tuple[str, ...] = (), defaults_from_model: bool = False):
    """A decorator adding one click option per field of the dataclass ``cls`` (``only``: just these).

    With ``defaults_from_model`` each option defaults to None, meaning "what
    the model recommends, else the field's default", and says so in its help.
    """
    hints = typing.get_type_hints(cls)
    helps = field_help(cls)
    chosen = [f for f in dataclasses.fields(cls) if not only or f.name in only]

    def decorate(command):
        for field in reversed(chosen):
            kind = _click_type(hints[field.name])
            flag = "--" + field.name.replace("_", "-")
            text = helps.get(field.name, "")
            text = text[:1].upper() + text[1:]
            if kind is bool:
                default = None if defaults_from_model else field.default
                if defaults_from_model:
                    text += f" [default: the model's recommended setting, else {'on' if field.default else 'off'}]"
                option = click.option(
                    f"{flag}/--no-{flag[2:]}", field.name, default=default, show_default=default is not None, help=text
                )
            else:
                default = None if defaults_from_model else field.default
                shown = "none" if field.default is None else field.default
                if defaults_from_model and field.default is not None:
                    text += f" [default: the model's recommended setting, else {shown}]"
                click_type = click.Choice(_CHOICES[field.name]) if field.name in _CHOICES else kind
                option = click.option(
                    flag,
                    field.name,
                    type=click_type,
                    default=default,
                    show_default=not defaults_from_model and field.default is not None,
                    help=text,
                )
            command = option(command)
        return command

    return decorate


def given(ctx: click.Context, values: dict) -> dict:
    """The options in ``values`` the user gave on the command line (not those left at their defaults)."""
    return {
        name: value
        for name, value in values.items()
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
