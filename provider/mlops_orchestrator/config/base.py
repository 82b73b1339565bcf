"""The base of every pipeline config: our own top-level additions and the helpers the factory uses.

An MWO request payload is the top level of a config; what we add (DAG settings, the orchestrator
settings MWO took as stack parameters, VPC) sits beside it, all optional, so that an MWO payload
validates unchanged. Conditional rules ("required when ...") are checked here too, on the field
they concern, so a model validated on its own is as strict as one loaded from a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import CoreSchema

from .common import (
    STAGES,
    STRICT,
    AssetsKey,
    BucketName,
    DagId,
    EcrImageUri,
    EmptyAsNone,
    FrameworkName,
    FrameworkVersion,
    InstanceType,
    IntRange,
    KmsKeyArn,
    LaxBool,
    ModelPackageArn,
    Number,
    Region,
    SageMakerName,
    SecurityGroupId,
    StackName,
    Stage,
    Staged,
    StageValues,
    SubnetId,
    is_plain_key,
)
from .errors import WARNING, ConfigError, Problem, custom_error, did_you_mean, raise_problems, short
from .multi_account import MultiAccount, StageAccount, StageAccounts, stage_problems
from .mwo_fields import foreign_keys, foreign_mwo_keys
from .notifications import Notifications

__all__ = [
    "DEFAULT_START_DATE",
    "AIRFLOW_SCHEDULE_PRESETS",
    "BuiltinImageFields",
    "CustomImageFields",
    "ModelDeploymentConfig",
    "PipelineConfig",
    "StagedInstanceType",
    "StagedKmsKeyArn",
    "ParamSpec",
    "StageAccount",
    "StageAccounts",
    "dag_id_for",
    "given",
    "lax_bool",
]

DEFAULT_START_DATE = datetime(2024, 1, 1, tzinfo=UTC)

AIRFLOW_SCHEDULE_PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
)

_DAG_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def dag_id_for(path: str | Path) -> str:
    """The DAG id a config file gets when it sets none: its stem, made a valid Airflow dag id."""
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0]  # Path(path).stem, without a Path per config
    return (_DAG_ID_BAD_CHARS.sub("_", stem) or "_")[:250]


# --------------------------------------------------------------------------------------------
# small readers of raw (not yet validated) input, for presence-based rules
# --------------------------------------------------------------------------------------------


def given(data: Mapping[str, Any], *keys: str) -> bool:
    """Whether any of ``keys`` holds a value (MWO sent "" for "not given")."""
    for key in keys:
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip():
            continue
        if isinstance(value, dict | list) and not value:
            continue
        return True
    return False


_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def lax_bool(value: Any) -> bool | None:
    """Read a boolean the way pydantic does in lax mode; None when it is not one (reported elsewhere)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def registry_setting(data: Mapping[str, Any]) -> bool | None:
    """``use_model_registry`` as the config, defaults file or environment set it; None when unset
    (or not a boolean, which is reported on the field)."""
    return lax_bool(data.get("use_model_registry")) if given(data, "use_model_registry") else None


def raw_str(data: Mapping[str, Any], key: str) -> str:
    """A raw value as a stripped string ("" when absent or not a string)."""
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


# --------------------------------------------------------------------------------------------
# our additions' types
# --------------------------------------------------------------------------------------------


def _schedule(value: Any) -> Any:
    """None, an Airflow preset, or a 5-field cron checked with croniter (imported only when needed)."""
    if value is None:
        return None
    example = "expected null, a preset like @daily, or a 5-field cron expression like '0 3 * * *'"
    if not isinstance(value, str):
        raise custom_error("schedule", f"{example}, got {short(value)}")
    text = value.strip()
    if text.startswith("@"):
        if text in AIRFLOW_SCHEDULE_PRESETS:
            return text
        suggestion = did_you_mean(text, AIRFLOW_SCHEDULE_PRESETS)
        hint = (
            f"; did you mean '{suggestion}'?"
            if suggestion
            else f" (presets: {', '.join(AIRFLOW_SCHEDULE_PRESETS)})"
        )
        raise custom_error("schedule", f"unknown schedule preset {short(text)}{hint}")
    if len(text.split()) != 5:
        raise custom_error(
            "schedule",
            f"expected a cron expression with 5 fields (minute hour day-of-month month day-of-week) "
            f"like '0 3 * * *', got {short(text)}",
        )
    from croniter import croniter  # only configs with a cron schedule pay for the import

    try:
        croniter(text)
    except (ValueError, KeyError, TypeError) as exc:
        reason = "a value is out of range" if "out of range" in str(exc) else "a field is not valid"
        raise custom_error(
            "schedule",
            f"invalid cron expression {short(text)} ({reason}; fields: minute hour day month weekday)",
        ) from None
    return text


Schedule = Annotated[
    str | None,
    BeforeValidator(_schedule),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "null"},
                {"type": "string", "enum": list(AIRFLOW_SCHEDULE_PRESETS)},
                {"type": "string", "description": "5-field cron expression, e.g. '0 3 * * *'"},
            ]
        }
    ),
]


def _start_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _utc_if_naive(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


StartDate = Annotated[datetime, BeforeValidator(_start_date), AfterValidator(_utc_if_naive)]
DagTag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _param_name(name: str) -> str:
    if not name.isidentifier():
        raise custom_error(
            "param_name",
            f"{name!r} is not a valid param name: use letters, digits and _, not starting with a digit",
        )
    return name


def _jsonable(value: Any) -> Any:
    """Plain JSON data; YAML dates become ISO strings (the trigger form works with strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    raise custom_error(
        "json", f"expected plain data (string, number, boolean, list, mapping), got {short(value)}"
    )


Json = Annotated[Any, BeforeValidator(_jsonable), WithJsonSchema({})]

_PARAM_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")


def _param_type(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item not in _PARAM_TYPES:
            raise custom_error(
                "param_type",
                f"expected one of {', '.join(_PARAM_TYPES)} (or a list of them), got {short(item)}",
            )
    return value


ParamType = Annotated[
    Any,
    BeforeValidator(_param_type),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": list(_PARAM_TYPES)},
                {"type": "array", "items": {"type": "string", "enum": list(_PARAM_TYPES)}},
            ]
        }
    ),
]


class ParamSpec(BaseModel):
    """A DAG param for Airflow's trigger form: default value plus the JSON-Schema bits Airflow shows."""

    model_config = STRICT

    default: Json = None
    description: str | None = None
    type: ParamType | None = None
    enum: list[Json] | None = None
    minimum: Number | None = None
    maximum: Number | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is greater than maximum {self.maximum:g}")
        if self.enum is not None and self.default is not None and self.default not in self.enum:
            raise ValueError(f"default {short(self.default)} is not one of enum {short(self.enum)}")
        number = isinstance(self.default, int | float) and not isinstance(self.default, bool)
        if number and self.minimum is not None and self.default < self.minimum:
            raise ValueError(f"default {self.default} is below minimum {self.minimum:g}")
        if number and self.maximum is not None and self.default > self.maximum:
            raise ValueError(f"default {self.default} is above maximum {self.maximum:g}")
        return self


_SPEC_KEYS = frozenset(ParamSpec.model_fields)


def _param_tag(value: Any) -> str:
    if isinstance(value, ParamSpec) or (isinstance(value, dict) and _SPEC_KEYS.intersection(value)):
        return "@spec"
    return "@value"


def _spec_as_dict(spec: ParamSpec) -> dict[str, Any]:
    """A checked spec goes back to a plain mapping (always with ``default``), ready for ``Param(**)``."""
    return {"default": spec.default, **spec.model_dump(exclude_none=True, exclude={"default"})}


#: A param: a plain value (its default), or a mapping with any of default/description/type/enum/
#: minimum/maximum. A mapping using any of those keys is read as a spec, so a typo in it is caught;
#: after validation a spec is a plain dict that always has ``default``.
ParamValue = Annotated[
    Annotated[ParamSpec, AfterValidator(_spec_as_dict), PlainSerializer(dict), Tag("@spec")]
    | Annotated[Json, Tag("@value")],
    Discriminator(_param_tag),
]
ParamName = Annotated[str, AfterValidator(_param_name)]


# --------------------------------------------------------------------------------------------
# the base model
# --------------------------------------------------------------------------------------------


class PipelineConfig(BaseModel):
    """What every pipeline config has: ``pipeline_type`` plus our optional top-level additions.

    Subclasses add the MWO fields of their pipeline type and may override two hooks:
    ``input_problems`` (rules on which keys are present, checked even when other fields are
    invalid, so the user sees everything at once) and ``cross_field_problems`` (rules on the
    validated values). Both return ``(field path, message)`` pairs.

    Orchestrator settings (``assets_bucket``, ``use_model_registry``, ``stage``, ``stages``, ...)
    usually come from the nearest ``defaults.yaml``; single-account deployments use ``stage``
    (default "dev") to pick the value of per-stage fields.
    """

    model_config = ConfigDict(**STRICT, defer_build=True)

    pipeline_type: str

    dag_id: DagId | None = Field(None, description="DAG id; default: the file's stem")
    description: str | None = None
    schedule: Schedule = Field(
        None, description="null (manual), an Airflow preset like @daily, or a 5-field cron"
    )
    start_date: StartDate = DEFAULT_START_DATE
    catchup: LaxBool = False
    tags: list[DagTag] = Field(default_factory=list)
    owner: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = "mlops"
    retries: IntRange(0, 10) = 1
    retry_delay_seconds: IntRange(0) = 60
    params: dict[ParamName, ParamValue] = Field(default_factory=dict)
    aws_conn_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = "aws_default"
    region_name: Region | None = None
    assets_bucket: BucketName | None = Field(
        None, description="bucket holding model artifacts, baselines, training data (MWO's assets bucket)"
    )
    use_model_registry: LaxBool | None = Field(
        None,
        description="MWO's UseModelRegistry: true deploys model_package_name, false the model fields; "
        "unset: whichever is given",
    )
    stage: Stage = Field("dev", description="stage whose values single-account deployments use")
    stages: StageAccounts | None = Field(
        None, description="the dev/staging/prod accounts: deployment pipelines promote through them in order"
    )
    multi_account: MultiAccount | None = Field(
        None, description="how stage stacks reach their accounts (StackSets or assumed roles); needs stages"
    )
    stack_name: StackName | None = None
    subnet_ids: list[SubnetId] | None = Field(None, min_length=1)
    security_group_ids: list[SecurityGroupId] | None = Field(None, min_length=1)
    notifications: Notifications | None = Field(
        None,
        description="where failures, waiting approvals and monitor violations are sent: "
        "{sns_topic_arn, email, smtp_conn_id, from_email, on}",
    )

    #: fields holding a key in the assets bucket (or a full s3:// URI)
    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: fields holding bucket/prefix (possibly per stage)
    LOCATION_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: canonical field name -> MWO's misspelt name, both accepted
    LEGACY_ALIASES: ClassVar[dict[str, str]] = {}
    #: the suffix MWO gave this pipeline type's stacks (``mlops-pipeline-{name}-{suffix}``, lower-cased)
    STACK_SUFFIX: ClassVar[str] = ""

    _source: str | None = PrivateAttr(None)
    _ignored: tuple[tuple[str, str], ...] = PrivateAttr(())

    # -- validation --------------------------------------------------------------------------

    @model_validator(mode="wrap")
    @classmethod
    def _validate_all_rules(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        """Run field validation and our conditional rules, and report all their problems together.

        Keys this type ignores (``ignored_inputs``) are taken out first, unvalidated; each that
        holds a value becomes a warning, kept on the model (``warnings``) and, when the caller
        passes ``context={"warnings": [...]}``, added to that list even if validation fails.
        """
        if not isinstance(data, Mapping):
            return handler(data)
        data = dict(data)
        early: list[tuple[str, str]] = []
        for canonical, legacy in cls.LEGACY_ALIASES.items():
            if canonical in data and legacy in data:
                early.append(
                    (legacy, f"give either '{canonical}' or its legacy spelling '{legacy}', not both")
                )
                data.pop(legacy)
        _, misplaced = foreign_keys(cls, data)
        for key, _message in misplaced:
            data.pop(key)
        early.extend(misplaced)
        ignored = cls.ignored_inputs(data)
        warned = tuple((key, message) for key, message in ignored.items() if given(data, key))
        for key in ignored:
            data.pop(key, None)
        sink = info.context.get("warnings") if isinstance(info.context, dict) else None
        if isinstance(sink, list):
            sink.extend(warned)
        early.extend(cls.input_problems(data))
        try:
            model = handler(data)
        except ValidationError as exc:
            if not early:
                raise
            raise_problems(cls.__name__, early, exc.errors())
        late = early + model.cross_field_problems()
        if late:
            raise_problems(cls.__name__, late)
        model._ignored = warned
        return model

    @classmethod
    def ignored_inputs(cls, data: Mapping[str, Any]) -> dict[str, str]:
        """Keys to read past, unvalidated, as MWO did -> why (the warning): here, MWO keys of
        other pipeline types (a payload template shared by several pipelines)."""
        ignored, _ = foreign_keys(cls, data)
        return ignored

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Presence rules on the raw input: here, a VPC needs both subnets and security groups."""
        problems = []
        if given(data, "subnet_ids") and not given(data, "security_group_ids"):
            problems.append(("security_group_ids", "required when subnet_ids is given (a VPC needs both)"))
        if given(data, "security_group_ids") and not given(data, "subnet_ids"):
            problems.append(("subnet_ids", "required when security_group_ids is given (a VPC needs both)"))
        return problems

    def cross_field_problems(self) -> list[tuple[str, str]]:
        """Rules on validated values: the assets bucket is known when a plain key is used, and
        every per-stage map has a value for each stage this deployment uses."""
        problems = []
        if self.assets_bucket is None:
            users = [name for name in self.assets_key_fields_in_use() if is_plain_key(self._raw_value(name))]
            if users:
                problems.append(
                    (
                        "assets_bucket",
                        f"required because {', '.join(users)} "
                        f"{'is a key' if len(users) == 1 else 'are keys'} in the assets bucket "
                        "(set assets_bucket in the config or defaults.yaml, or MLOPS_ORCHESTRATOR_ASSETS_BUCKET,"
                        " or give a full s3:// URI)",
                    )
                )
        problems += stage_problems(
            self.stages,
            self.multi_account,
            promotes=self.promotes_across_stages(),
            stage_api_reason=self.stage_api_reason(),
        )
        stages = self.stages_in_use()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, StageValues):
                missing = [s for s in stages if value.get(s) is None]
                if missing:
                    problems.append(
                        (
                            name,
                            f"no value for stage {', '.join(missing)} "
                            f"(this map gives {', '.join(value.given())}; stages in use: {', '.join(stages)})",
                        )
                    )
        return problems

    @property
    def warnings(self) -> list[Problem]:
        """What validation read past (keys of other pipeline types, the unused registry or model
        fields): warnings naming the config file, in the order of the file."""
        file = self._source or "<config>"
        return [Problem(file, key, message, severity=WARNING) for key, message in self._ignored]

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Say in the schema what validation does: other types' MWO keys are allowed (and ignored)."""
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        properties = target.get("properties")
        if properties is not None and "pipeline_type" in cls.model_fields:
            for key, users in foreign_mwo_keys(cls).items():
                properties.setdefault(
                    key, {"description": f"MWO field of {', '.join(users)}: ignored by this pipeline type"}
                )
        return schema

    def assets_key_fields_in_use(self) -> list[str]:
        """Dotted names of the assets-key fields that hold a value (subclasses add nested ones)."""
        return [name for name in self.ASSETS_KEY_FIELDS if getattr(self, name, None) is not None]

    def _raw_value(self, dotted: str) -> Any:
        value: Any = self
        for part in dotted.split("."):
            value = getattr(value, part, None)
        return value

    # -- multi-account ------------------------------------------------------------------------

    def promotes_across_stages(self) -> bool:
        """Whether this pipeline deploys stage by stage when ``stages`` is set (deployments do)."""
        return False

    def stage_api_reason(self) -> str | None:
        """Why this pipeline calls AWS inside a stage's account besides deploying its stack (None: it does not)."""
        return None

    @property
    def multi_account_settings(self) -> MultiAccount:
        """``multi_account``, or the defaults (StackSets, self-managed) when only ``stages`` is set."""
        return self.multi_account or MultiAccount()

    @property
    def is_multi_account(self) -> bool:
        """Whether this pipeline deploys to the ``stages`` accounts one after another."""
        return self.stages is not None and self.promotes_across_stages()

    # -- helpers for the factory -------------------------------------------------------------

    def stages_in_use(self) -> list[str]:
        """The stages this pipeline deploys to: those with an account in ``stages``, else ``[stage]``."""
        return self.stages.names() if self.stages is not None else [self.stage]

    def for_stage(self, field_name: str, stage: str | None = None) -> Any:
        """The value of a per-stage field for ``stage`` (default: the ``stage`` setting).

        A single value is shared by every stage and returned as is; a ``{dev, staging, prod}``
        map must give the stage asked for. Single-account deployments set ``stage`` (default
        "dev") in the config or defaults file and call this without a stage.
        """
        if field_name not in type(self).model_fields:
            raise AttributeError(f"{type(self).__name__} has no field {field_name!r}")
        stage = stage or self.stage
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; expected dev, staging or prod")
        value = getattr(self, field_name)
        if not isinstance(value, StageValues):
            return value
        result = value.get(stage)
        if result is None:
            file = self._source or "<config>"
            raise ConfigError(
                file,
                [
                    Problem(
                        file,
                        field_name,
                        f"no value for stage {stage} (this map gives {', '.join(value.given())})",
                    )
                ],
            )
        return result

    def s3_uri(self, field_name: str, stage: str | None = None) -> str | None:
        """Full ``s3://`` URI of a location or assets-key field (None when the field is unset).

        Locations (``bucket/prefix``) get ``s3://`` in front; assets keys get the assets bucket,
        unless they already are a full URI.
        """
        if field_name in self.LOCATION_FIELDS:
            value = self.for_stage(field_name, stage)
            return None if value is None else f"s3://{value}"
        if field_name in self.ASSETS_KEY_FIELDS or "." in field_name:
            value = self._raw_value(field_name)
            if value is None:
                return None
            if not is_plain_key(value):
                return value
            if self.assets_bucket is None:
                file = self._source or "<config>"
                raise ConfigError(
                    file, [Problem(file, "assets_bucket", f"required to locate {field_name} {value!r}")]
                )
            return f"s3://{self.assets_bucket}/{value}"
        raise KeyError(f"{field_name!r} is not an S3 location field of {type(self).__name__}")

    def effective_dag_id(self, path: str | Path | None = None) -> str:
        """The DAG id: the config's ``dag_id``, else the file's stem made valid."""
        if self.dag_id:
            return self.dag_id
        source = path if path is not None else self._source
        if source is None:
            raise ValueError("config has no dag_id and no file path to derive one from")
        return dag_id_for(source)

    def stack_name_or_default(self, dag_id: str | None = None) -> str:
        """``stack_name``, else MWO's ``mlops-pipeline-{model_name or image_tag}-{suffix}``, lower-cased.

        The per-type suffix (``STACK_SUFFIX``, as MWO named its stacks) keeps a realtime and a
        monitor pipeline of one model_name in separate stacks. ``dag_id`` is the fallback when
        there is neither name nor tag.
        """
        if self.stack_name:
            return self.stack_name
        infix = getattr(self, "model_name", None) or getattr(self, "image_tag", None) or dag_id or "pipeline"
        suffix = f"-{self.STACK_SUFFIX}" if self.STACK_SUFFIX else ""
        name = f"mlops-pipeline-{infix}{suffix}".lower()
        name = re.sub(r"[^a-z0-9-]+", "-", name)
        name = re.sub(r"-{2,}", "-", name).strip("-")
        if not name[:1].isalpha():
            name = f"p-{name}"
        return name[:128].rstrip("-")


# --------------------------------------------------------------------------------------------
# shared by realtime and batch inference
# --------------------------------------------------------------------------------------------

#: kms_key_arn as every family takes it: one ARN, or one per stage.
StagedKmsKeyArn = Staged(KmsKeyArn, "KmsKeyArn")
StagedInstanceType = Staged(InstanceType, "InstanceType")


class ModelDeploymentConfig(PipelineConfig):
    """Realtime and batch inference: a model given by artifact and image, or by a registry package.

    ``use_model_registry`` (MWO's UseModelRegistry, usually set in defaults.yaml) decides, as in
    MWO: true deploys ``model_package_name`` (a model package version ARN) and ignores the model
    fields; false deploys the model fields and ignores the package. What is ignored is not
    validated (an MWO payload template may carry a placeholder). Unset, whichever is given is
    deployed, and giving both is an error that says to set it.
    """

    model_name: SageMakerName
    inference_instance: StagedInstanceType
    model_artifact_location: Annotated[AssetsKey | None, EmptyAsNone] = None
    model_package_name: Annotated[ModelPackageArn | None, EmptyAsNone] = None
    kms_key_arn: Annotated[StagedKmsKeyArn | None, EmptyAsNone] = None

    ASSETS_KEY_FIELDS: ClassVar[tuple[str, ...]] = ("model_artifact_location",)
    #: the fields a model package replaces (set by each concrete type)
    MODEL_FIELDS: ClassVar[tuple[str, ...]] = ("model_artifact_location",)

    @classmethod
    def _model_sources(cls) -> tuple[str, ...]:
        """The model fields, plus our custom_image_from where the type has it (an image source too)."""
        extra = ("custom_image_from",) if "custom_image_from" in cls.model_fields else ()
        return (*cls.MODEL_FIELDS, *extra)

    @classmethod
    def ignored_inputs(cls, data: Mapping[str, Any]) -> dict[str, str]:
        ignored = super().ignored_inputs(data)
        setting = registry_setting(data)
        if setting is True:
            for name in cls.MODEL_FIELDS:
                if name in data:
                    ignored[name] = "ignored: use_model_registry is true, so the model package (model_package_name) is deployed"
        elif setting is False and "model_package_name" in data:
            ignored["model_package_name"] = (
                f"ignored: use_model_registry is false, so the model fields ({', '.join(cls.MODEL_FIELDS)}) are deployed"
            )
        return ignored

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = super().input_problems(data)
        setting = registry_setting(data)
        if setting is True:
            if not given(data, "model_package_name"):
                problems.append(("model_package_name", "required when use_model_registry is true"))
        elif setting is False:
            for name in cls.MODEL_FIELDS:
                if not given(data, name):
                    problems.append((name, "field required (use_model_registry is false)"))
        elif given(data, "model_package_name"):
            both = [name for name in cls._model_sources() if given(data, name)]
            if both:
                problems.append(
                    (
                        "use_model_registry",
                        f"required: model_package_name and the model fields ({', '.join(both)}) are both given; "
                        "true deploys the model package and ignores the model fields, false deploys the model "
                        "fields and ignores the package (set it in this config or in defaults.yaml)",
                    )
                )
        else:
            for name in cls.MODEL_FIELDS:
                if not given(data, name):
                    problems.append((name, "field required (unless model_package_name is given)"))
        return problems

    def promotes_across_stages(self) -> bool:
        return True

    @property
    def uses_model_registry(self) -> bool:
        """Whether the model comes from a model package (registry) rather than artifact + image."""
        return self.model_package_name is not None

    @property
    def model_package_group_name(self) -> str | None:
        """The group of ``model_package_name`` (``.../model-package/GROUP/VERSION``)."""
        if self.model_package_name is None:
            return None
        return self.model_package_name.rsplit("/", 2)[-2]


class BuiltinImageFields(BaseModel):
    """Builtin algorithm: the image is looked up (SageMaker SDK, at run time) from framework + version."""

    model_config = ConfigDict(**STRICT, defer_build=True)

    model_framework: Annotated[FrameworkName | None, EmptyAsNone] = None
    model_framework_version: Annotated[FrameworkVersion | None, EmptyAsNone] = None


class CustomImageFields(BaseModel):
    """Custom algorithm: an image in ECR, given as a URI or as the image builder DAG that built it."""

    model_config = ConfigDict(**STRICT, defer_build=True)

    custom_image_uri: Annotated[EcrImageUri | None, EmptyAsNone] = None
    custom_image_from: Annotated[DagId | None, EmptyAsNone] = Field(
        None,
        description="DAG id of a byom_image_builder pipeline: deploy the image it published last "
        "(instead of custom_image_uri)",
    )
    deploy_on_new_image: LaxBool = Field(
        False,
        description="with custom_image_from: run this DAG (deploy) each time that image builder publishes "
        "an image (an Airflow asset schedule; schedule must then be null)",
    )

    @classmethod
    def input_problems(cls, data: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The image comes from exactly one of custom_image_uri, custom_image_from, model_package_name."""
        problems = super().input_problems(data)  # type: ignore[misc]  # the config class's rules
        uri_missing = [p for p in problems if p[0] == "custom_image_uri" and p[1].startswith("field required")]
        if given(data, "custom_image_from"):
            problems = [p for p in problems if p not in uri_missing]
            if given(data, "custom_image_uri"):
                problems.append(("custom_image_from", "give either custom_image_uri or custom_image_from, not both"))
            if registry_setting(data) is True:
                problems.append(
                    (
                        "custom_image_from",
                        "not used when use_model_registry is true (the model package supplies the image); "
                        "set use_model_registry: false in this config to deploy the image builder's image",
                    )
                )
        else:  # say that custom_image_from would do as well
            problems = [
                (name, message.replace("(unless ", "(unless custom_image_from or ").replace(
                    "required (use_model_registry", "required, or custom_image_from (use_model_registry"
                ))
                if (name, message) in uri_missing
                else (name, message)
                for name, message in problems
            ]
        if lax_bool(data.get("deploy_on_new_image")):
            if not given(data, "custom_image_from"):
                problems.append(
                    ("deploy_on_new_image", "needs custom_image_from (the image builder whose images to deploy)")
                )
            if given(data, "schedule"):
                problems.append(
                    ("schedule", "must be null with deploy_on_new_image (new images of custom_image_from start the DAG)")
                )
        return problems
