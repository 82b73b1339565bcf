"""Field types shared by the pipeline models: names, ARNs, S3 locations, stage maps, enums.

Each type carries its own check and a message that shows what a valid value looks like, so the
models stay declarative. Patterns are given to pydantic (compiled once, in Rust) and also land in
the JSON Schema, where editors can use them.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic_core import core_schema

from .errors import PATTERN_MESSAGES, custom_error, short

STAGES: tuple[str, ...] = ("dev", "staging", "prod")
Stage = Literal["dev", "staging", "prod"]

#: Model config every model of ours uses: unknown keys are errors, Python names work as well as aliases.
STRICT = ConfigDict(extra="forbid", populate_by_name=True)


def _pattern(pattern: str, message: str, **constraints: Any):
    """A stripped string matching ``pattern``; ``message`` says what a valid value looks like."""
    PATTERN_MESSAGES[pattern] = message
    return StringConstraints(strip_whitespace=True, pattern=pattern, **constraints)


def _fixable(pattern: str, suspect: Any, fix: Any, why: str) -> Any:
    """Before the pattern check: a value that AWS refuses for one known reason (``suspect``), and
    that ``fix`` makes valid, gets that reason and the fixed value ("did you mean"), rather than
    the bare pattern. MWO passed such values on and the deployment failed (an endpoint name with
    "_", an instance type in capitals, which MWO's own pattern allowed). ``suspect`` is a cheap
    test, so valid values skip the regex.
    """
    regex = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and suspect(value):
            text = value.strip()
            fixed = fix(text)
            if fixed != text and regex.match(fixed):
                raise custom_error("fixable_value", f"{why}, got {short(value)}; did you mean {fixed!r}?")
        return value

    return BeforeValidator(check)


def _has_capitals(value: str) -> bool:
    return value != value.lower()


# --------------------------------------------------------------------------------------------
# AWS identifiers
# --------------------------------------------------------------------------------------------

# Any region of any partition: us-east-1, us-gov-west-1, cn-north-1, me-south-1, af-south-1,
# ap-southeast-5, il-central-1, eusc-de-east-1 ...
REGION = r"[a-z]{2,4}(?:-[a-z]+){1,2}-[0-9]{1,2}"
PARTITION = r"aws(?:-cn|-us-gov|-iso(?:-[a-z])?|-eusc)?"
SAGEMAKER_NAME = r"[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}"
ECR_REPO = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
DOCKER_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"

INSTANCE_TYPE_PATTERN = r"^[a-zA-Z0-9_.+-]+\.[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$"
KMS_KEY_ARN_PATTERN = (
    rf"^arn:{PARTITION}:kms:{REGION}:[0-9]{{12}}:(?:key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$"
)
MODEL_PACKAGE_ARN_PATTERN = (
    rf"^arn:aws[a-z-]*:sagemaker:{REGION}:[0-9]{{12}}:model-package/{SAGEMAKER_NAME}/[0-9]+$"
)
ECR_IMAGE_URI_PATTERN = (
    rf"^[0-9]{{12}}\.dkr\.ecr(?:-fips)?\.{REGION}\.amazonaws\.com(?:\.cn)?/{ECR_REPO}"
    rf"(?::{DOCKER_TAG}|@sha256:[a-f0-9]{{64}})?$"
)
SAGEMAKER_NAME_PATTERN = rf"^{SAGEMAKER_NAME}$"
AUTOML_JOB_NAME_PATTERN = r"^[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,31}$"
SAGEMAKER_CRON_PATTERN = r"^cron\((?:\S+\s){5}\S+\)$"
ECR_REPO_PATTERN = rf"^{ECR_REPO}$"
IMAGE_TAG_PATTERN = rf"^{DOCKER_TAG}$"
REGION_PATTERN = rf"^{REGION}$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
ORG_UNIT_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
SUBNET_PATTERN = r"^subnet-[0-9a-f]{8,17}$"
SECURITY_GROUP_PATTERN = r"^sg-[0-9a-f]{8,17}$"
STACK_NAME_PATTERN = r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$"
DAG_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,250}$"
FRAMEWORK_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

InstanceType = Annotated[
    str,
    _pattern(INSTANCE_TYPE_PATTERN, "expected an instance type like ml.m5.large"),
    _fixable(INSTANCE_TYPE_PATTERN, _has_capitals, str.lower, "SageMaker instance types are lower case"),
]
KmsKeyArn = Annotated[
    str,
    _pattern(
        KMS_KEY_ARN_PATTERN,
        "expected a KMS key ARN like arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        " (or .../alias/NAME)",
    ),
]
ModelPackageArn = Annotated[
    str,
    _pattern(
        MODEL_PACKAGE_ARN_PATTERN,
        "expected a model package version ARN like "
        "arn:aws:sagemaker:us-east-1:111122223333:model-package/GROUP/1",
    ),
]
EcrImageUri = Annotated[
    str,
    _pattern(
        ECR_IMAGE_URI_PATTERN,
        "expected an ECR image URI like 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
    ),
]
def _has_underscore(value: str) -> bool:
    return "_" in value


def _hyphens(value: str) -> str:
    return value.replace("_", "-")


_NO_UNDERSCORE = "SageMaker refuses '_' in names (letters, digits and hyphens only)"

SageMakerName = Annotated[
    str,
    _pattern(
        SAGEMAKER_NAME_PATTERN,
        "expected a SageMaker name: letters, digits and hyphens, starting with a letter or digit, "
        "at most 63 characters",
    ),
    _fixable(SAGEMAKER_NAME_PATTERN, _has_underscore, _hyphens, _NO_UNDERSCORE),
]
AutoMLJobName = Annotated[
    str,
    _pattern(
        AUTOML_JOB_NAME_PATTERN,
        "expected an Autopilot job name: letters, digits and hyphens, at most 32 characters",
    ),
    _fixable(AUTOML_JOB_NAME_PATTERN, _has_underscore, _hyphens, _NO_UNDERSCORE),
]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: SageMaker endpoint name, lower-cased as MWO did (so "My-Endpoint" and "my-endpoint" are one endpoint).
EndpointName = Annotated[SageMakerName, BeforeValidator(_lower)]

SageMakerCron = Annotated[
    str,
    _pattern(
        SAGEMAKER_CRON_PATTERN,
        "expected a SageMaker cron expression with 6 fields in parentheses, like cron(0 * ? * * *)",
    ),
]
EcrRepoName = Annotated[
    str,
    _pattern(
        ECR_REPO_PATTERN,
        "expected an ECR repository name: lower-case letters, digits and . _ - / separators",
        min_length=2,
        max_length=256,
    ),
    _fixable(ECR_REPO_PATTERN, _has_capitals, str.lower, "ECR repository names are lower case"),
]
ImageTag = Annotated[
    str,
    _pattern(
        IMAGE_TAG_PATTERN,
        "expected a Docker tag: letters, digits, _ . -, not starting with . or -, at most 128 characters",
    ),
]
Region = Annotated[str, _pattern(REGION_PATTERN, "expected an AWS region like us-east-1")]
AccountId = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
    _pattern(ACCOUNT_ID_PATTERN, "expected a 12-digit AWS account id"),
]
OrgUnitId = Annotated[
    str, _pattern(ORG_UNIT_PATTERN, "expected an organizational unit id like ou-ab12-cdefgh34")
]
SubnetId = Annotated[str, _pattern(SUBNET_PATTERN, "expected a subnet id like subnet-0123456789abcdef0")]
SecurityGroupId = Annotated[
    str, _pattern(SECURITY_GROUP_PATTERN, "expected a security group id like sg-0123456789abcdef0")
]
StackName = Annotated[
    str,
    _pattern(
        STACK_NAME_PATTERN,
        "expected a CloudFormation stack name: a letter, then letters, digits and hyphens, "
        "at most 128 characters",
    ),
]
DagId = Annotated[
    str,
    _pattern(DAG_ID_PATTERN, "expected a DAG id: letters, digits, _ . - only, at most 250 characters"),
]
FrameworkName = Annotated[
    str,
    _pattern(FRAMEWORK_PATTERN, "expected a SageMaker framework name like xgboost or sklearn"),
    _fixable(
        FRAMEWORK_PATTERN, _has_capitals, str.lower, "SageMaker framework names are lower case (its image lookup is)"
    ),
]
NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _framework_version(value: Any) -> Any:
    """Versions are strings ("1.7-1"); YAML reads 0.90 as 0.9, so refuse floats rather than guess."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise custom_error(
            "framework_version",
            f"expected a version string like '1.7-1', got the number {value!r} (quote it in YAML)",
        )
    if isinstance(value, int):
        return str(value)
    return value


FrameworkVersion = Annotated[
    str, BeforeValidator(_framework_version), StringConstraints(strip_whitespace=True, min_length=1)
]


def _attribute(value: Any) -> Any:
    """Column index or JSONPath: YAML often gives 0 (an int) for "0"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


#: Index or JSONPath locating a value in a CSV/JSON record (model monitor attributes).
Attribute = Annotated[
    str, BeforeValidator(_attribute), StringConstraints(strip_whitespace=True, min_length=1)
]


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_LIKE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def bucket_problem(bucket: str) -> str | None:
    """Why ``bucket`` cannot be an S3 bucket name, or None if it can."""
    if not _BUCKET.match(bucket) or ".." in bucket or _IP_LIKE.match(bucket):
        return (
            f"{bucket!r} is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit)"
        )
    return None


def _s3_location(value: Any) -> str:
    """``bucket/prefix`` or ``s3://bucket/prefix`` -> ``bucket/prefix`` without a trailing ``/``."""
    example = "expected an S3 location like bucket/prefix or s3://bucket/prefix"
    if not isinstance(value, str):
        raise custom_error("s3_location", f"{example}, got {short(value)}")
    text = value.strip()
    if text.startswith("s3://"):
        text = text[5:]
    elif "://" in text:
        raise custom_error("s3_location", f"{example}, got {short(value)}")
    text = text.strip("/")
    bucket, _, key = text.partition("/")
    if not bucket:
        raise custom_error("s3_location", f"{example}, got {short(value)}")
    why = bucket_problem(bucket)
    if why:
        raise custom_error("s3_location", f"{example}: {why}")
    if len(key) > 1024:
        raise custom_error("s3_location", "S3 key is longer than 1024 characters")
    return f"{bucket}/{key}" if key else bucket


def _assets_key(value: Any) -> str:
    """A key in the assets bucket (``models/model.tar.gz``) or a full ``s3://bucket/key`` URI."""
    example = "expected a key in the assets bucket like models/model.tar.gz, or s3://bucket/key"
    if not isinstance(value, str):
        raise custom_error("assets_key", f"{example}, got {short(value)}")
    text = value.strip()
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        why = bucket_problem(bucket)
        if why:
            raise custom_error("assets_key", f"{example}: {why}")
        key = key.rstrip("/")
        if not key:
            raise custom_error("assets_key", f"{example}, got {short(value)} (no key after the bucket)")
        return f"s3://{bucket}/{key}"
    if "://" in text:
        raise custom_error("assets_key", f"{example}, got {short(value)}")
    text = text.rstrip("/")
    if not text:
        raise custom_error("assets_key", "must not be empty")
    if len(text) > 1024:
        raise custom_error("assets_key", "S3 key is longer than 1024 characters")
    return text


def _bucket_name(value: Any) -> str:
    if not isinstance(value, str):
        raise custom_error("bucket", f"expected an S3 bucket name, got {short(value)}")
    text = value.strip()
    if text.startswith("s3://"):
        text = text[5:]
    text = text.strip("/")
    why = bucket_problem(text)
    if why:
        raise custom_error("bucket", why)
    return text


S3Location = Annotated[
    str,
    BeforeValidator(_s3_location),
    WithJsonSchema(
        {
            "type": "string",
            "description": "bucket/prefix or s3://bucket/prefix",
            "examples": ["my-bucket/data"],
        }
    ),
]
AssetsKey = Annotated[
    str,
    BeforeValidator(_assets_key),
    WithJsonSchema(
        {
            "type": "string",
            "description": "a key in the assets bucket, or a full s3://bucket/key URI",
            "examples": ["models/model.tar.gz"],
        }
    ),
]
BucketName = Annotated[
    str,
    BeforeValidator(_bucket_name),
    WithJsonSchema(
        {"type": "string", "description": "S3 bucket name", "examples": ["mlops-assets-111122223333"]}
    ),
]


def is_plain_key(value: Any) -> bool:
    """True for an assets-bucket key (as opposed to a full s3:// URI)."""
    return isinstance(value, str) and bool(value) and not value.startswith("s3://")


# --------------------------------------------------------------------------------------------
# numbers, enums, JSON-ish values
# --------------------------------------------------------------------------------------------


_INT_STRING = {"type": "string", "pattern": "^\\s*-?[0-9]+\\s*$"}


def IntRange(low: int | None = None, high: int | None = None) -> Any:  # noqa: N802 - reads as a type
    """An int within ``low..high``; a string like "3600" is accepted too, as MWO sent numbers."""
    number: dict[str, Any] = {"type": "integer"}
    if low is not None:
        number["minimum"] = low
    if high is not None:
        number["maximum"] = high
    return Annotated[int, Field(ge=low, le=high), WithJsonSchema({"anyOf": [number, _INT_STRING]})]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


#: Strip surrounding whitespace before checking (MWO did ``.strip()`` on several values).
Stripped = BeforeValidator(_strip)

#: A boolean; "True"/"False" (MWO's way), "yes"/"no", "1"/"0" are accepted too, in any case.
LaxBool = Annotated[
    bool,
    Stripped,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "string", "enum": ["True", "False", "true", "false", "Yes", "No", "yes", "no"]},
            ]
        }
    ),
]

#: A number; a string like "0.5" is accepted too.
LaxFloat = Annotated[
    float,
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^\\s*-?[0-9.eE+-]+\\s*$"}]}),
]


def _json_object(value: Any) -> Any:
    """MWO passed some objects (bias_config, ...) as JSON strings; accept both."""
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise custom_error(
                "json", f"expected a mapping or a JSON string, got invalid JSON: {exc}"
            ) from None
    return value


class _Lenient:
    """Accept one more input form before validating, and say so in the JSON Schema.

    Validation-wise this is a BeforeValidator; the schema becomes ``anyOf: [normal, extra]`` so
    editors accept the MWO forms the loader accepts.
    """

    def __init__(self, convert: Any, extra_schema: dict[str, Any]) -> None:
        self.convert = convert
        self.extra_schema = extra_schema

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_before_validator_function(self.convert, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return {"anyOf": [handler(schema), self.extra_schema]}


#: Also accept the mapping JSON-encoded in a string (MWO passed bias_config etc. that way).
JsonObjectInput = _Lenient(_json_object, {"type": "string", "description": "the same, JSON-encoded"})


def _scalar(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    raise custom_error("scalar", f"expected a string, number or boolean, got {short(value)}")


#: A hyperparameter, label or facet value: string, number or boolean.
Scalar = Annotated[
    Any,
    BeforeValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "integer", "boolean"]}),
]


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise custom_error("number", f"expected a number, got {short(value)}")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() and "." not in value else number
    raise custom_error("number", f"expected a number, got {short(value)}")


#: A number that stays an int when given as one (``"20"`` is accepted too).
Number = Annotated[Any, BeforeValidator(_number), WithJsonSchema({"type": "number"})]


def _str_or_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise custom_error("str_or_int", f"expected a column name or index, got {short(value)}")
    return value


#: A column name or index (Clarify facet/label/score locations).
NameOrIndex = Annotated[Any, BeforeValidator(_str_or_int), WithJsonSchema({"type": ["string", "integer"]})]



def _empty_as_none(value: Any) -> Any:
    """MWO sent "" for an unset optional parameter (CloudFormation's empty default)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


EmptyAsNone = _Lenient(_empty_as_none, {"const": ""})


def _one_or_many(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


def OneOrMany(item_schema: dict[str, Any]) -> Any:  # noqa: N802 - reads as a type
    """A list, or a single item standing for a list of one (``facet_name: age``)."""
    return _Lenient(_one_or_many, item_schema)


ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]


# --------------------------------------------------------------------------------------------
# per-stage values (multi-account)
# --------------------------------------------------------------------------------------------


class StageValues(BaseModel):
    """A value given per stage: ``{dev: .., staging: .., prod: ..}`` (any subset, at least one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def get(self, stage: str) -> Any:
        """The value for ``stage``, or None when this map does not give one."""
        return getattr(self, stage, None)

    def given(self) -> list[str]:
        """The stages this map gives a value for."""
        return [s for s in STAGES if getattr(self, s) is not None]

    @model_validator(mode="after")
    def _not_empty(self) -> StageValues:
        if not self.given():
            raise ValueError("give a value for at least one of dev, staging, prod")
        return self


def _stage_tag(value: Any) -> str:
    return "@stages" if isinstance(value, dict | StageValues) else "@value"


_stage_models: dict[str, type[StageValues]] = {}


def Staged(value_type: Any, name: str) -> Any:  # noqa: N802 - reads as a type
    """``value_type`` or a map ``{dev|staging|prod: value_type}`` (MWO's multi-account form).

    The map is a small model so that a wrong stage name is an unknown-key error with a
    suggestion, and each stage's value is validated exactly like the single value.
    """
    model = _stage_models.get(name)
    if model is None:
        model = create_model(
            f"{name}ByStage",
            __base__=StageValues,
            dev=(value_type | None, None),
            staging=(value_type | None, None),
            prod=(value_type | None, None),
        )
        _stage_models[name] = model
    return Annotated[
        Annotated[value_type, Tag("@value")] | Annotated[model, Tag("@stages")],
        Discriminator(_stage_tag),
    ]
