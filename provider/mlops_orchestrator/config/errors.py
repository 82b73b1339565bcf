"""Problems found in config files, and how pydantic's errors become messages a user can act on.

Every check in this package ends up as a :class:`Problem` naming the file, the dotted path of the
field and what is wrong with it, so that ``mlops-orchestrator validate`` can print one line per
problem and the DAG loader can show all of them at once instead of the first.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

__all__ = [
    "ERROR",
    "WARNING",
    "ConfigError",
    "Problem",
    "did_you_mean",
    "field_path",
    "in_file_order",
    "problems_from_validation_error",
    "raise_problems",
    "short",
]


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, or (``severity="warning"``) one thing the user should know.

    ``field`` is a dotted path (``tuner_configs.max_jobs``, ``subnet_ids[0]``) or "" when the
    problem concerns the whole file (syntax error, empty file). ``line`` is known for YAML/JSON
    syntax errors and, when cheap, for field problems. A warning (a key this pipeline type
    ignores, as MWO did) never makes a config invalid.
    """

    file: str
    field: str
    message: str
    line: int | None = None
    severity: str = ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def format(self) -> str:
        """Render as ``FILE: field: message`` (or ``FILE:LINE: message`` for syntax errors);
        a warning as ``FILE: field: warning: message``."""
        message = f"warning: {self.message}" if self.is_warning else self.message
        if self.field:
            return f"{self.file}: {self.field}: {message}"
        if self.line is not None:
            return f"{self.file}:{self.line}: {message}"
        return f"{self.file}: {message}"


class ConfigError(Exception):
    """A config file (or the defaults file it uses) is not valid; carries every problem found.

    ``problems`` are the errors; ``warnings`` what would have been reported had the config been
    valid (keys it ignores), so that ``validate`` shows both at once.
    """

    def __init__(self, file: str | Any, problems: Iterable[Problem], warnings: Iterable[Problem] = ()) -> None:
        self.file = str(file)
        self.problems = list(problems)
        self.warnings = list(warnings)
        super().__init__(self.file, self.problems)

    def __str__(self) -> str:
        return "\n".join(p.format() for p in self.problems)


# --------------------------------------------------------------------------------------------
# small helpers shared by the validators
# --------------------------------------------------------------------------------------------


def short(value: Any, limit: int = 100) -> str:
    """A repr of a bad value, cut so one problem stays on one readable line."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def did_you_mean(word: Any, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest valid name to a misspelt one, if any is close enough to be a likely typo."""
    if not isinstance(word, str):
        return None
    choices = list(choices)
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
        matches = [lowered[m] for m in matches]
    return matches[0] if matches else None


def _likeness(word: str, other: str) -> float:
    return difflib.SequenceMatcher(None, word, other).ratio()


def custom_error(kind: str, message: str) -> PydanticCustomError:
    """A pydantic error whose message is already final (no template formatting of user input)."""
    return PydanticCustomError(kind, message)


def field_path(loc: Sequence[Any]) -> str:
    """``('a', 'b', 0, '@stages', 'dev')`` -> ``a.b[0].dev``.

    Parts starting with ``@`` are the tags of our own discriminated unions (stage maps, param
    specs); ``[key]`` marks an error on a mapping key, which the message already says.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        part = str(part)
        if part.startswith("@") or part == "[key]":
            continue
        out = f"{out}.{part}" if out else part
    return out


def raise_problems(title: str, problems: Sequence[tuple[str | tuple, str]], errors: Sequence[dict] = ()):
    """Raise one ValidationError holding pydantic's own errors plus our (path, message) problems.

    Used by the cross-field validators so a model validated on its own (not through the loader)
    reports conditional problems on the field they concern, like any other field error.
    """
    details: list[InitErrorDetails] = [_reraisable(err) for err in errors]
    for where, message in problems:
        loc = tuple(where) if isinstance(where, tuple) else tuple(_split_path(where))
        details.append(InitErrorDetails(type=custom_error("cross_field", message), loc=loc, input=None))
    raise ValidationError.from_exception_data(title, details)


_KNOWN_ERROR_TYPES = frozenset(typing.get_args(ErrorType))


def _reraisable(err: dict) -> InitErrorDetails:
    if err["type"] in _KNOWN_ERROR_TYPES:
        detail = InitErrorDetails(type=err["type"], loc=err["loc"], input=err.get("input"))
        if err.get("ctx"):
            detail["ctx"] = err["ctx"]
        return detail
    return InitErrorDetails(
        type=custom_error(err["type"], err["msg"]), loc=err["loc"], input=err.get("input")
    )


def _split_path(path: str) -> list[Any]:
    parts: list[Any] = []
    for chunk in path.split("."):
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i.rstrip("]")) for i in indexes)
    return parts


def in_file_order(problems: list[Problem], keys: Iterable[str], fields: Iterable[str] = ()) -> list[Problem]:
    """Problems sorted by where their top-level key is in the file, then missing ones in model order.

    pydantic reports in field-definition order with unknown keys last; a user reads top to bottom.
    """
    rank = {key: i for i, key in enumerate(keys)}
    for name in fields:
        rank.setdefault(name, len(rank))
    last = len(rank)

    def position(problem: Problem) -> int:
        return rank.get(problem.field.split(".", 1)[0].split("[", 1)[0], last)

    return sorted(problems, key=position)


# --------------------------------------------------------------------------------------------
# pydantic errors -> problems
# --------------------------------------------------------------------------------------------

#: pattern -> what a valid value looks like; filled by common.py next to each pattern.
PATTERN_MESSAGES: dict[str, str] = {}

_QUOTED = re.compile(r"'([^']*)'")
_SCALAR_TYPE_ERRORS = frozenset(
    {"string_type", "int_type", "int_parsing", "float_type", "float_parsing", "bool_type", "bool_parsing",
     "literal_error"}
)
_STAGES = ("dev", "staging", "prod")


def problems_from_validation_error(
    exc: ValidationError,
    model: type[BaseModel] | None,
    file: str,
    notes: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Translate every pydantic error into a Problem with a dotted path and a plain message.

    ``model`` lets unknown keys get a "did you mean" from the fields valid at that place;
    ``notes`` maps a top-level key to where its value came from (a defaults file, an
    environment variable) so a bad inherited value is not blamed on the config alone.
    """
    problems = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        path = field_path(loc)
        message = _message(err, model)
        if notes and loc and isinstance(loc[0], str) and loc[0] in notes and err["type"] != "missing":
            message = f"{message} (value from {notes[loc[0]]})"
        problems.append(Problem(file=file, field=path, message=message))
    return problems


def _message(err: dict, model: type[BaseModel] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f", got {short(value)}"
    loc = err["loc"]

    if kind == "missing":
        return "field required"
    if kind in _SCALAR_TYPE_ERRORS and isinstance(value, dict) and value and set(value) <= set(_STAGES):
        return f"takes one value shared by every stage, not a per-stage map, got {short(value)}"
    if kind == "extra_forbidden":
        return _unknown_field(loc, model)
    if kind in {"string_type", "string_sub_type"}:
        hint = " (quote it in YAML)" if isinstance(value, int | float | bool) else ""
        return f"expected a string{got}{hint}"
    if kind in {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}:
        return f"expected a whole number{got}"
    if kind in {"float_type", "float_parsing", "decimal_type", "decimal_parsing"}:
        return f"expected a number{got}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false{got}"
    if kind in {"dict_type", "model_type", "model_attributes_type", "mapping_type"}:
        return f"expected a mapping{got}"
    if kind in {"list_type", "tuple_type", "set_type", "iterable_type"}:
        return f"expected a list{got}"
    if kind in {"literal_error", "enum"}:
        expected = _QUOTED.findall(ctx.get("expected", "")) or [ctx.get("expected", "")]
        shown = ", ".join(e if e else '""' for e in expected)
        suggestion = did_you_mean(value, [e for e in expected if e])
        if suggestion:
            return f"unknown value {short(value)}; did you mean '{suggestion}'? (expected one of {shown})"
        return f"expected one of {shown}{got}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        return f"{PATTERN_MESSAGES.get(pattern, f'does not match {pattern}')}{got}"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "must not be empty"
        return f"must be at least {ctx.get('min_length')} characters{got}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (has {len(str(value))})"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}{got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}{got}"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}{got}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}{got}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind.startswith(("datetime_", "date_", "timezone_")):
        return f"expected a date like 2024-01-01 or a time like 2024-01-01T06:00:00Z{got}"
    if kind in {"value_error", "assertion_error"}:
        error = ctx.get("error")
        return str(error) if error is not None else err["msg"]
    if kind in _KNOWN_ERROR_TYPES:
        return f"{err['msg'][:1].lower()}{err['msg'][1:]}{got}"
    # our own PydanticCustomError: the message is final
    return err["msg"]


def _unknown_field(loc: Sequence[Any], model: type[BaseModel] | None) -> str:
    key = loc[-1] if loc else None
    parent = loc[:-1]
    if parent and (parent[-1] == "@stages" or tuple(parent) == ("stages",)):
        suggestion = did_you_mean(key, _STAGES)
        hint = f"did you mean '{suggestion}'? " if suggestion else ""
        return f"unknown stage {short(key)}; {hint}expected dev, staging or prod"
    names = _names_at(model, parent) if model is not None else []
    foreign: dict[str, tuple[str, ...]] = {}
    if not parent and model is not None and "pipeline_type" in model.model_fields:
        from .mwo_fields import foreign_mwo_keys  # a pipeline model: other types' MWO keys are known too

        foreign = foreign_mwo_keys(model)
    suggestion = did_you_mean(key, names)
    # another type's MWO key only when it is clearly the closer one (there are many of them)
    elsewhere = did_you_mean(key, foreign, cutoff=0.8)
    if elsewhere and (suggestion is None or _likeness(key, elsewhere) > _likeness(key, suggestion)):
        suggestion = elsewhere
    if suggestion in foreign:
        return (
            f"unknown field; did you mean '{suggestion}'? (a field of {', '.join(foreign[suggestion])}, "
            "which this pipeline type ignores)"
        )
    if suggestion:
        return f"unknown field; did you mean '{suggestion}'?"
    return "unknown field"


def _names_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names and aliases valid at ``loc`` under ``model`` (for suggestions)."""
    candidates: list[Any] = [model]
    for part in loc:
        if isinstance(part, str) and part.startswith("@"):
            continue
        following: list[Any] = []
        for cand in candidates:
            for leaf in _leaves(cand):
                if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                    field = _field(leaf, part)
                    if field is not None:
                        following.append(field.annotation)
                elif typing.get_origin(leaf) in (dict, Mapping, list, tuple, Sequence):
                    args = typing.get_args(leaf)
                    if args:
                        following.append(args[-1] if args[-1] is not Ellipsis else args[0])
        candidates = following
    names: list[str] = []
    for cand in candidates:
        for leaf in _leaves(cand):
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                names.extend(_all_names(leaf))
    return names


def _field(model: type[BaseModel], name: Any):
    if not isinstance(name, str):
        return None
    field = model.model_fields.get(name)
    if field is not None:
        return field
    for f in model.model_fields.values():
        if name in _aliases(f):
            return f
    return None


def _aliases(field) -> list[str]:
    out = []
    if isinstance(field.alias, str):
        out.append(field.alias)
    va = field.validation_alias
    if isinstance(va, str):
        out.append(va)
    elif va is not None and hasattr(va, "choices"):
        out.extend(c for c in va.choices if isinstance(c, str))
    return out


def _all_names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        names.append(name)
        names.extend(_aliases(field))
    return names


def _leaves(annotation: Any) -> list[Any]:
    """Flatten Optional/Union/Annotated so we can look for models and containers inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        out = []
        for arg in typing.get_args(annotation):
            out.extend(_leaves(arg))
        return out
    return [annotation]
