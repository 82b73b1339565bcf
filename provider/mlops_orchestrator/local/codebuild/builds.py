"""CodeBuild builds that take time, go through CodeBuild's phases, log to CloudWatch and push images.

moto 5.2's CodeBuild finishes every build the moment it is described, reports phases with random
durations, rejects projects without a source location, ignores environment overrides and
idempotency tokens, writes no logs, and its CloudFormation skips ``AWS::CodeBuild::Project``.
Here, as CodeBuild does:

- ``AWS::CodeBuild::Project`` is created by a stack (``Name`` or a generated name; ``Ref`` is the
  name, ``GetAtt Arn``), updated in place (only a new ``Name`` replaces it) and deleted with it;
  CreateProject accepts ``NO_SOURCE`` and ``CODEPIPELINE`` projects without a location;
- StartBuild runs a build through SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL,
  PRE_BUILD, BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING and COMPLETED over ``job_seconds``,
  with ``environmentVariablesOverride``, ``sourceLocationOverride``, ``buildspecOverride`` and
  ``idempotencyToken`` (the same token within 5 minutes returns the same build);
- DOWNLOAD_SOURCE of an S3 source fails with CodeBuild's CLIENT_ERROR when the object is missing
  or not a zip; a ``docker build`` fails as docker does when the zip has no Dockerfile at its root;
- every phase writes CodeBuild's lines, the buildspec's commands and a simulated output to the
  project's log group (stream: the build's UUID), like the real agent;
- a ``docker push`` of ``$REPO_URI:$IMAGE_TAG`` puts an image with its own digest into that ECR
  repository (see ``ecr.push_image``) and prints the digest, as docker does;
- failure rules of kind ``build`` fail a build: ``match`` is compared with the project name, the
  source location and ``repository:tag``; a reason ``"PRE_BUILD: message"`` fails that phase with
  that message (without a phase prefix, BUILD fails);
- StopBuild stops a running build (STOPPED); BatchGetBuilds, ListBuilds and ListBuildsForProject
  (newest first by default) settle builds lazily from timestamps (see ``lifecycle``).
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from moto.codebuild import responses as codebuild_responses
from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.models import CodeBuild, CodeBuildBackend, codebuild_backends
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult
from moto.utilities.utils import get_partition

from mlops_orchestrator.local.cloudformation import resources as cfn_resources
from mlops_orchestrator.local.ecr import repositories as ecr
from mlops_orchestrator.local.lifecycle import (
    LOCK,
    STATE,
    Done,
    Lifecycle,
    Phase,
    attach,
    lifecycle_of,
    now,
    register_failure_kind,
    to_datetime,
)
from mlops_orchestrator.local.patching import Patches

BUILD_FAILURES = "build"
PROJECT_TYPE = "AWS::CodeBuild::Project"

#: CodeBuild's phases, in order, with the share of ``job_seconds`` each takes here.
PHASES: tuple[tuple[str, float], ...] = (
    ("SUBMITTED", 0.02),
    ("QUEUED", 0.05),
    ("PROVISIONING", 0.13),
    ("DOWNLOAD_SOURCE", 0.05),
    ("INSTALL", 0.05),
    ("PRE_BUILD", 0.1),
    ("BUILD", 0.4),
    ("POST_BUILD", 0.1),
    ("UPLOAD_ARTIFACTS", 0.05),
    ("FINALIZING", 0.05),
)
PHASE_NAMES = tuple(name for name, _ in PHASES) + ("COMPLETED",)
#: Phases that run the buildspec's commands.
COMMAND_PHASES = ("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD")
#: After a failure in one of these phases, CodeBuild goes straight to FINALIZING.
_SKIP_TO_FINALIZING = ("PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD")
IDEMPOTENCY_SECONDS = 300.0
#: Dockerfile instructions that are build steps in BuildKit's output.
_BUILD_STEPS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})
PAGE_SIZE = 100

_patches = Patches()


def install() -> None:
    """Extend moto's CodeBuild backend, responses and CloudFormation (idempotent)."""
    if _patches.installed:
        return
    register_failure_kind(
        BUILD_FAILURES,
        "the project name, the source location or 'repository:tag' of the build; a reason "
        "'PHASE: message' fails that phase (default BUILD)",
    )
    _patches.set(codebuild_responses, "_validate_required_params_source", _validate_source)
    _patches.set(CodeBuildResponse, "start_build", _start_build_response)
    _patches.set(CodeBuildResponse, "batch_get_builds", _batch_get_builds_response)
    _patches.set(CodeBuildResponse, "list_builds_for_project", _list_builds_for_project_response)
    _patches.set(CodeBuildResponse, "list_builds", _list_builds_response)
    _patches.set(CodeBuildResponse, "stop_build", _stop_build_response)

    # AWS::CodeBuild::Project: moto's model made a CloudFormation resource.
    _patches.set(CodeBuild, "cloudformation_type", staticmethod(lambda: PROJECT_TYPE))
    _patches.set(CodeBuild, "cloudformation_name_type", staticmethod(lambda: "Name"))
    _patches.set(CodeBuild, "has_cfn_attr", classmethod(lambda cls, attr: attr == "Arn"))
    _patches.set(CodeBuild, "get_cfn_attribute", _project_attribute)
    _patches.set(CodeBuild, "physical_resource_id", property(lambda self: self.project_metadata["name"]))
    _patches.set(CodeBuild, "create_from_cloudformation_json", classmethod(_create_project_from_cloudformation))
    _patches.set(CodeBuild, "delete", _delete_project_resource)
    from moto.cloudformation import parsing

    _patches.set(parsing, "resource_class_from_type", _resource_class_from_type)
    cfn_resources.register_handler(PROJECT_TYPE, ProjectHandler())


def uninstall() -> None:
    _patches.undo()


# --- projects ----------------------------------------------------------------------------------


def _validate_source(source: dict[str, Any]) -> None:
    """CodeBuild's check: a location is required except for NO_SOURCE and CODEPIPELINE sources."""
    if source.get("type") in ("NO_SOURCE", "CODEPIPELINE"):
        if source.get("type") == "NO_SOURCE" and not source.get("buildspec"):
            raise InvalidInputException("Project source buildspec is required for NO_SOURCE")
        return
    _patches.original(codebuild_responses, "_validate_required_params_source")(source)


def _resource_class_from_type(resource_type: str) -> Any:
    if resource_type == PROJECT_TYPE:
        return CodeBuild
    from moto.cloudformation import parsing

    return _patches.original(parsing, "resource_class_from_type")(resource_type)


def _project_attribute(self: CodeBuild, attribute_name: str) -> str:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "Arn":
        return self.arn
    raise UnformattedGetAttTemplateException()


def _camel(value: Any) -> Any:
    """CloudFormation's property names (``Source.BuildSpec``) as the API spells them (``buildspec``)."""
    if isinstance(value, list):
        return [_camel(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        name = "buildspec" if key == "BuildSpec" else key[:1].lower() + key[1:]
        result[name] = _camel(item)
    return result


def _api_properties(properties: dict[str, Any]) -> dict[str, Any]:
    api = _camel(properties)
    environment = api.get("environment") or {}
    for variable in environment.get("environmentVariables") or []:
        variable.setdefault("type", "PLAINTEXT")
        variable["value"] = str(variable.get("value", ""))
    if "privilegedMode" in environment:
        environment["privilegedMode"] = str(environment["privilegedMode"]).lower() == "true"
    if "timeoutInMinutes" in api:
        api["timeoutInMinutes"] = int(api["timeoutInMinutes"])
    return api


def _create_project_from_cloudformation(
    cls: type[CodeBuild],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> CodeBuild:
    backend: CodeBuildBackend = codebuild_backends[account_id][region_name]
    api = _api_properties(cloudformation_json.get("Properties") or {})
    name = api.get("name") or resource_name
    if name in backend.codebuild_projects:
        arn = f"arn:{get_partition(region_name)}:codebuild:{region_name}:{account_id}:project/{name}"
        raise InvalidInputException(f"Project already exists: {arn}")
    for required in ("source", "environment", "serviceRole", "artifacts"):
        if not api.get(required):
            raise KeyError(required[:1].upper() + required[1:])
    backend.create_project(
        project_name=name,
        description=api.get("description"),
        project_source=api["source"],
        artifacts=api["artifacts"],
        environment=api["environment"],
        service_role=api["serviceRole"],
        tags=api.get("tags"),
        cache=api.get("cache"),
        timeout=api.get("timeoutInMinutes") or 60,
        queued_timeout=api.get("queuedTimeoutInMinutes") or 480,
        source_version=api.get("sourceVersion"),
        logs_config=api.get("logsConfig"),
        vpc_config=api.get("vpcConfig"),
    )
    return backend.codebuild_projects[name]


def _delete_project_resource(self: CodeBuild, account_id: str, region_name: str) -> None:
    backend: CodeBuildBackend = codebuild_backends[account_id][region_name]
    name = self.project_metadata["name"]
    if backend.codebuild_projects.get(name) is self:
        backend.delete_project(name)


class ProjectHandler(cfn_resources.ResourceHandler):
    """AWS::CodeBuild::Project: only a new Name replaces the project; the rest is updated in place."""

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return old.get("Name") != new.get("Name")

    def update(
        self,
        resource: CodeBuild,
        old: dict[str, Any],
        new: dict[str, Any],
        context: cfn_resources.ResourceContext,
    ) -> CodeBuild:
        api = _api_properties(new)
        metadata = resource.project_metadata
        for key in ("description", "source", "artifacts", "environment", "logsConfig", "vpcConfig", "tags"):
            if api.get(key) is not None:
                metadata[key] = api[key]
            else:
                metadata.pop(key, None)
        metadata["serviceRole"] = api.get("serviceRole", metadata.get("serviceRole"))
        metadata["timeoutInMinutes"] = api.get("timeoutInMinutes") or 60
        metadata["lastModifiedDate"] = to_datetime(now())
        resource.service_role = metadata["serviceRole"]
        return resource


# --- builds ------------------------------------------------------------------------------------


@dataclass
class _Failure:
    phase: str
    message: str


@dataclass(eq=False)
class Build:
    """One build: what it runs with, the phases it went through, and where it logs."""

    backend: CodeBuildBackend
    project_name: str
    number: int
    source: dict[str, Any]
    environment: dict[str, Any]
    logs_config: dict[str, Any]
    service_role: str
    timeout: int
    started: float
    initiator: str
    failure: _Failure | None
    id: str = ""
    phases: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    ended: float | None = None
    image: dict[str, str] | None = None
    _log_ready: bool = False

    def __post_init__(self) -> None:
        self.uuid = str(uuid.uuid4())
        self.id = f"{self.project_name}:{self.uuid}"
        self.region = self.backend.region_name
        self.account = self.backend.account_id
        self.arn = f"arn:{get_partition(self.region)}:codebuild:{self.region}:{self.account}:build/{self.id}"

    # -- what the build runs with --------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        values = {v["name"]: str(v.get("value", "")) for v in self.environment.get("environmentVariables") or []}
        values.setdefault("AWS_REGION", self.region)
        values.setdefault("AWS_DEFAULT_REGION", self.region)
        values["CODEBUILD_BUILD_ID"] = self.id
        values["CODEBUILD_BUILD_ARN"] = self.arn
        values["CODEBUILD_BUILD_NUMBER"] = str(self.number)
        values["CODEBUILD_BUILD_SUCCEEDING"] = "0" if self.failed else "1"
        return values

    @property
    def failed(self) -> bool:
        return any(p.get("phaseStatus") in ("FAILED", "FAULT", "CLIENT_ERROR") for p in self.phases)

    @property
    def commands(self) -> dict[str, list[str]]:
        """The buildspec's commands per phase (``phases.pre_build.commands`` -> PRE_BUILD)."""
        try:
            spec = yaml.safe_load(self.source.get("buildspec") or "") or {}
        except yaml.YAMLError:
            spec = {}
        phases = spec.get("phases") if isinstance(spec, dict) else None
        result: dict[str, list[str]] = {}
        for name, body in (phases or {}).items():
            commands = body.get("commands") if isinstance(body, dict) else None
            result[str(name).upper()] = [str(c) for c in commands or []]
        return result

    @property
    def log_group(self) -> str | None:
        cloudwatch = (self.logs_config or {}).get("cloudWatchLogs") or {}
        if cloudwatch.get("status", "ENABLED") != "ENABLED":
            return None
        return cloudwatch.get("groupName") or f"/aws/codebuild/{self.project_name}"

    @property
    def log_stream(self) -> str:
        cloudwatch = (self.logs_config or {}).get("cloudWatchLogs") or {}
        prefix = cloudwatch.get("streamName")
        return f"{prefix}/{self.uuid}" if prefix else self.uuid

    @property
    def image_target(self) -> tuple[str, str] | None:
        """(repository, tag) a ``docker push`` of this build goes to, from its environment."""
        env = self.env
        repository = env.get("IMAGE_REPO_NAME")
        if not repository and env.get("REPO_URI"):
            repository = env["REPO_URI"].split("/", 1)[-1]
        if not repository:
            return None
        return repository, env.get("IMAGE_TAG") or "latest"

    # -- the response ---------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        lifecycle = lifecycle_of(self)
        busy = lifecycle is not None and lifecycle.busy
        status = "IN_PROGRESS" if busy else (lifecycle.status if lifecycle else "SUCCEEDED")
        group = self.log_group
        logs: dict[str, Any] = {
            "cloudWatchLogs": {"status": "ENABLED" if group else "DISABLED"},
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": False},
        }
        if group:
            logs.update(
                groupName=group,
                streamName=self.log_stream,
                deepLink=(
                    f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
                    f"#logEvent:group={group};stream={self.log_stream}"
                ),
                cloudWatchLogsArn=(
                    f"arn:{get_partition(self.region)}:logs:{self.region}:{self.account}:log-group:{group}"
                    f":log-stream:{self.log_stream}"
                ),
            )
            logs["cloudWatchLogs"]["groupName"] = group
        result: dict[str, Any] = {
            "id": self.id,
            "arn": self.arn,
            "buildNumber": self.number,
            "startTime": to_datetime(self.started),
            "currentPhase": lifecycle.status if busy else "COMPLETED",
            "buildStatus": status,
            "projectName": self.project_name,
            "phases": [dict(p) for p in self.phases],
            "source": dict(self.source),
            "secondarySources": [],
            "secondarySourceVersions": [],
            "artifacts": {"location": ""},
            "secondaryArtifacts": [],
            "cache": {"type": "NO_CACHE"},
            "environment": self.environment,
            "serviceRole": self.service_role,
            "logs": logs,
            "timeoutInMinutes": self.timeout,
            "queuedTimeoutInMinutes": 480,
            "buildComplete": not busy,
            "initiator": self.initiator,
            "encryptionKey": f"arn:{get_partition(self.region)}:kms:{self.region}:{self.account}:alias/aws/s3",
        }
        if self.ended is not None:
            result["endTime"] = to_datetime(self.ended)
        if self.source.get("type") == "S3":
            result["resolvedSourceVersion"] = "1"
        return result

    # -- phases ---------------------------------------------------------------------------------

    def begin(self, name: str, at: float) -> None:
        self.phases.append({"phaseType": name, "startTime": to_datetime(at)})

    def end(self, name: str, at: float, status: str = "SUCCEEDED", context: dict[str, str] | None = None) -> None:
        phase = self.phases[-1]
        started = phase["startTime"].replace(tzinfo=UTC).timestamp()
        phase.update(
            phaseStatus=status,
            endTime=to_datetime(at),
            durationInSeconds=max(0, int(round(at - started))),
            contexts=[context or {"statusCode": "", "message": ""}],
        )

    def run_phase(self, name: str, log: _Log) -> dict[str, str] | None:
        """Do what the phase does (check the source, run the commands); its failure context or None."""
        if name == "PROVISIONING":
            log.container("Running on CodeBuild On-demand")
            log.container("Waiting for agent ping")
            log.container("Waiting for DOWNLOAD_SOURCE")
            return None
        if name == "DOWNLOAD_SOURCE":
            log.container("Phase is DOWNLOAD_SOURCE")
            problem = self._download_problem()
            if problem is not None:
                return self._fail(log, name, "CLIENT_ERROR", problem)
            log.container(f"CODEBUILD_SRC_DIR=/codebuild/output/src{self.number}/src")
            log.container("YAML location is /codebuild/readonly/buildspec.yml")
            return self._phase_done(log, name)
        if name not in COMMAND_PHASES:
            return None
        log.container(f"Entering phase {name}")
        if self.failure is not None and self.failure.phase == name:
            commands = self.commands.get(name) or ["(no command)"]
            command = next((c for c in commands if "docker build" in c), commands[-1])
            log.container(f"Running command {command}")
            log.line(self.failure.message)
            log.container(f"Command did not exit successfully {command} exit status 1")
            return self._fail(log, name, "COMMAND_EXECUTION_ERROR", self.failure.message)
        for command in self.commands.get(name, []):
            log.container(f"Running command {command}")
            problem = self._run(command, log)
            if problem is not None:
                log.container(f"Command did not exit successfully {command} exit status 1")
                message = f"Error while executing command: {command}. Reason: exit status 1"
                return self._fail(log, name, "COMMAND_EXECUTION_ERROR", message)
        return self._phase_done(log, name)

    def _phase_done(self, log: _Log, name: str) -> None:
        log.container(f"Phase complete: {name} State: SUCCEEDED")
        log.container("Phase context status code:  Message: ")
        return None

    def _fail(self, log: _Log, name: str, code: str, message: str) -> dict[str, str]:
        log.container(f"Phase complete: {name} State: FAILED")
        log.container(f"Phase context status code: {code} Message: {message}")
        return {"statusCode": code, "message": message}

    def _source_object(self) -> tuple[bytes | None, str | None]:
        """The S3 source's bytes, or why they cannot be read (CodeBuild's CLIENT_ERROR text)."""
        location = self.source.get("location") or ""
        bucket, _, key = location.removeprefix("s3://").partition("/")
        version = f"arn:{get_partition(self.region)}:s3:::{bucket}/{key}"
        from moto.s3.models import s3_backends

        try:
            obj = s3_backends[self.account][get_partition(self.region)].get_object(bucket, key)
        except Exception:  # noqa: BLE001 - moto raises MissingBucket and friends
            obj = None
        if obj is None:
            return None, (
                f"CLIENT_ERROR: NoSuchKey: The specified key does not exist. "
                f"for primary source and source version {version}"
            )
        return obj.value, None

    def _download_problem(self) -> str | None:
        if self.source.get("type") != "S3":
            return None
        content, problem = self._source_object()
        if problem is not None:
            return problem
        if not zipfile.is_zipfile(io.BytesIO(content or b"")):
            location = self.source.get("location")
            return (
                "CLIENT_ERROR: zip: not a valid zip file for primary source and source version "
                f"arn:{get_partition(self.region)}:s3:::{location}"
            )
        return None

    def _dockerfile(self) -> str | None:
        content, _ = self._source_object() if self.source.get("type") == "S3" else (None, None)
        if not content or not zipfile.is_zipfile(io.BytesIO(content)):
            return None
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            try:
                return archive.read("Dockerfile").decode("utf-8", "replace")
            except KeyError:
                return None

    def _run(self, command: str, log: _Log) -> str | None:
        """Simulate one buildspec command: its output, and a problem when it would fail."""
        env = self.env
        if "docker login" in command:
            log.line("WARNING! Your password will be stored unencrypted in /root/.docker/config.json.")
            log.line("Login Succeeded")
            return None
        if command.lstrip().startswith("docker build"):
            dockerfile = self._dockerfile()
            log.line("#0 building with \"default\" instance using docker driver")
            log.line("#1 [internal] load build definition from Dockerfile")
            if dockerfile is None:
                log.line("#1 transferring dockerfile: 2B done")
                log.line("ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory")
                return "no Dockerfile"
            lines = [ln.strip() for ln in dockerfile.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            steps = [ln for ln in lines if ln.split()[0].upper() in _BUILD_STEPS]
            for index, step in enumerate(steps, start=1):
                log.line(f"#{index + 1} [{index}/{len(steps)}] {step}")
                log.line(f"#{index + 1} DONE 0.{index}s")
            target = self.image_target
            name = f"{env.get('REPO_URI', target[0] if target else 'image')}:{target[1] if target else 'latest'}"
            log.line(f"#{len(steps) + 2} exporting to image")
            log.line(f"#{len(steps) + 2} naming to {name} done")
            return None
        if command.lstrip().startswith("docker push"):
            return self._push(log)
        for line in command.splitlines():
            _echo(line, env, self.image, log)
        return None

    def _push(self, log: _Log) -> str | None:
        target = self.image_target
        if target is None:
            log.line("Error response from daemon: no image to push: set IMAGE_REPO_NAME or REPO_URI")
            return "nothing to push"
        repository, tag = target
        registry = f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"
        log.line(f"The push refers to repository [{registry}/{repository}]")
        content, _ = self._source_object() if self.source.get("type") == "S3" else (b"", None)
        try:
            image = ecr.push_image(self.account, self.region, repository, tag, content or self.id.encode())
        except Exception:  # noqa: BLE001 - the registry's answer, as docker prints it
            log.line(
                f"name unknown: The repository with name '{repository}' does not exist in the registry "
                f"with id '{self.account}'"
            )
            return "repository does not exist"
        digest = image.get_image_digest()
        log.line(f"{digest[7:19]}: Pushed")
        log.line(f"{tag}: digest: {digest} size: {len(image.image_manifest)}")
        self.image = {"repository": repository, "tag": tag, "digest": digest, "uri": f"{registry}/{repository}:{tag}"}
        return None


class _Log:
    """Lines of one phase, spread over its logical time, written to the build's log stream."""

    def __init__(self, build: Build, start: float, end: float) -> None:
        self.build = build
        self.start = start
        self.end = end
        self.lines: list[tuple[str, str]] = []

    def container(self, text: str) -> None:
        self.lines.append(("[Container] ", text))

    def line(self, text: str) -> None:
        self.lines.append(("", text))

    def flush(self) -> None:
        group = self.build.log_group
        if group is None or not self.lines:
            return
        from moto.logs.models import logs_backends

        backend = logs_backends[self.build.account][self.build.region]
        if group not in backend.groups:
            backend.create_log_group(group, {})
        if not self.build._log_ready:
            backend.ensure_log_stream(group, self.build.log_stream)
            self.build._log_ready = True
        step = (self.end - self.start) / max(1, len(self.lines))
        events = []
        for index, (prefix, text) in enumerate(self.lines):
            at = self.start + step * index
            stamp = datetime.fromtimestamp(at, UTC).strftime("%Y/%m/%d %H:%M:%S.%f")
            message = f"{prefix}{stamp} {text}" if prefix else text
            events.append({"timestamp": int(at * 1000), "message": message})
        backend.put_log_events(group, self.build.log_stream, events)
        self.lines = []


_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def _echo(line: str, env: dict[str, str], image: dict[str, str] | None, log: _Log) -> None:
    """The output of an ``echo`` line of a command, with its variables (and the image digest) filled."""
    text = line.strip()
    if not text.startswith("echo "):
        return
    if "CODEBUILD_BUILD_SUCCEEDING" in line and env.get("CODEBUILD_BUILD_SUCCEEDING") != "1":
        return
    text = text[5:].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    text = re.sub(r"\$\(docker inspect.*\)", (image or {}).get("digest", ""), text)
    text = _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)
    log.line(text)


def _next_phase(name: str, failed: bool) -> str:
    if failed and name in _SKIP_TO_FINALIZING:
        return "FINALIZING"
    return PHASE_NAMES[PHASE_NAMES.index(name) + 1]


def _phase(build: Build, name: str, start: float) -> Phase:
    """The lifecycle phase showing ``name``; when it ends, the build moves on or completes."""
    seconds = dict(PHASES)[name] * STATE.settings.job_seconds

    def finish(at: float) -> Phase | Done:
        log = _Log(build, start, at)
        context = build.run_phase(name, log)
        log.flush()
        build.end(name, at, "FAILED" if context else "SUCCEEDED", context)
        following = _next_phase(name, build.failed)
        build.begin(following, at)
        if following == "COMPLETED":
            build.ended = at
            return Done("FAILED" if build.failed else "SUCCEEDED")
        return _phase(build, following, at)

    return Phase(name, seconds, finish)


def _store(backend: CodeBuildBackend) -> dict[str, Any]:
    """The emulator's builds of one backend (gone with moto's reset, which re-creates backends)."""
    store = backend.__dict__.get("_mlops_builds")
    if store is None:
        store = {"builds": {}, "numbers": {}, "tokens": {}}
        backend.__dict__["_mlops_builds"] = store
    return store


def _settle(build: Build) -> Build:
    lifecycle = lifecycle_of(build)
    if lifecycle is not None:
        lifecycle.settle()
    return build


def _project(backend: CodeBuildBackend, name: str, region: str, account: str) -> CodeBuild:
    project = backend.codebuild_projects.get(name)
    if project is None:
        for candidate in backend.codebuild_projects.values():
            if candidate.arn == name:
                return candidate
        raise ResourceNotFoundException(
            f"Project cannot be found: arn:{get_partition(region)}:codebuild:{region}:{account}:project/{name}"
        )
    return project


def start_build(backend: CodeBuildBackend, request: dict[str, Any]) -> Build:
    """StartBuild: a build of the project with the request's overrides, running from now."""
    with LOCK:
        project = _project(backend, request["projectName"], backend.region_name, backend.account_id)
        metadata = project.project_metadata
        name = metadata["name"]
        store = _store(backend)
        started = now()
        token = request.get("idempotencyToken")
        fingerprint = repr(sorted((k, repr(v)) for k, v in request.items() if k != "idempotencyToken"))
        if token:
            previous = store["tokens"].get(token)
            if previous is not None and started - previous[1] < IDEMPOTENCY_SECONDS:
                if previous[2] != fingerprint:
                    raise InvalidInputException(
                        "Idempotency token was already used with different parameters: "
                        "use a new idempotencyToken for a different StartBuild request"
                    )
                return _settle(store["builds"][previous[0]])

        source = dict(metadata.get("source") or {})
        if request.get("sourceLocationOverride"):
            source["location"] = request["sourceLocationOverride"]
        if request.get("sourceTypeOverride"):
            source["type"] = request["sourceTypeOverride"]
        if request.get("buildspecOverride"):
            source["buildspec"] = request["buildspecOverride"]
        environment = dict(metadata.get("environment") or {})
        variables = {v["name"]: dict(v) for v in environment.get("environmentVariables") or []}
        for override in request.get("environmentVariablesOverride") or []:
            variables[override["name"]] = {"type": "PLAINTEXT", **override}
        environment["environmentVariables"] = list(variables.values())
        for key, override in (("image", "imageOverride"), ("computeType", "computeTypeOverride")):
            if request.get(override):
                environment[key] = request[override]
        if request.get("privilegedModeOverride") is not None:
            environment["privilegedMode"] = bool(request["privilegedModeOverride"])

        number = store["numbers"].get(name, 0) + 1
        store["numbers"][name] = number
        build = Build(
            backend=backend,
            project_name=name,
            number=number,
            source=source,
            environment=environment,
            logs_config=request.get("logsConfigOverride") or metadata.get("logsConfig") or {},
            service_role=request.get("serviceRoleOverride") or metadata.get("serviceRole", ""),
            timeout=int(request.get("timeoutInMinutesOverride") or metadata.get("timeoutInMinutes") or 60),
            started=started,
            initiator="mlops-orchestrator-local",
            failure=None,
        )
        target = build.image_target
        names = [name, source.get("location"), f"{target[0]}:{target[1]}" if target else None]
        build.failure = _parse_failure(STATE.failures.take(BUILD_FAILURES, names))
        store["builds"][build.id] = build
        backend.build_history.setdefault(name, []).append(build.id)
        if token:
            store["tokens"][token] = (build.id, started, fingerprint)
        build.begin("SUBMITTED", started)
        attach(build, Lifecycle("SUBMITTED", started)).start(_phase(build, "SUBMITTED", started), started)
        return _settle(build)


def _parse_failure(reason: str | None) -> _Failure | None:
    if reason is None:
        return None
    phase, sep, message = reason.partition(":")
    if sep and phase.strip().upper() in COMMAND_PHASES:
        return _Failure(phase.strip().upper(), message.strip() or "exit status 1")
    return _Failure("BUILD", reason)


def stop_build(backend: CodeBuildBackend, build_id: str) -> Build:
    with LOCK:
        build = _store(backend)["builds"].get(build_id)
        if build is None:
            raise ResourceNotFoundException(f"Build {build_id} does not exist")
        lifecycle = lifecycle_of(build)
        _settle(build)
        if lifecycle is None or not lifecycle.busy:
            return build
        at = now()
        lifecycle.cancel(at)
        build.stopped = True
        build.end(build.phases[-1]["phaseType"], at, "STOPPED")
        for name in ("FINALIZING", "COMPLETED"):
            build.begin(name, at)
            if name != "COMPLETED":
                build.end(name, at)
        build.ended = at
        lifecycle.status = "STOPPED"
        return build


def builds_of(backend: CodeBuildBackend) -> dict[str, Build]:
    return _store(backend)["builds"]


# --- responses -----------------------------------------------------------------------------------


def _request(response: CodeBuildResponse) -> dict[str, Any]:
    """The JSON body of a CodeBuild request (a JSON-protocol service)."""
    body = response.body or "{}"
    return json.loads(body if isinstance(body, str) else body.decode("utf-8"))


def _start_build_response(self: CodeBuildResponse) -> ActionResult:
    request = _request(self)
    codebuild_responses._validate_required_params_project_name(request.get("projectName", ""))
    return ActionResult({"build": start_build(self.codebuild_backend, request).describe()})


def _batch_get_builds_response(self: CodeBuildResponse) -> ActionResult:
    ids = self._get_param("ids") or []
    for build_id in ids:
        if ":" not in build_id:
            raise InvalidInputException("Invalid build ID provided")
    with LOCK:
        builds = builds_of(self.codebuild_backend)
        found = [_settle(builds[i]).describe() for i in ids if i in builds]
        missing = [i for i in ids if i not in builds]
    return ActionResult({"builds": found, **({"buildsNotFound": missing} if missing else {})})


def _sorted_ids(backend: CodeBuildBackend, ids: list[str], order: str) -> list[str]:
    builds = builds_of(backend)
    known = [i for i in ids if i in builds]
    known.sort(key=lambda i: builds[i].started, reverse=(order or "DESCENDING") == "DESCENDING")
    return known


def _page(ids: list[str], token: str | None) -> dict[str, Any]:
    start = int(token) if token and token.isdigit() else 0
    result: dict[str, Any] = {"ids": ids[start : start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(ids):
        result["nextToken"] = str(start + PAGE_SIZE)
    return result


def _list_builds_for_project_response(self: CodeBuildResponse) -> ActionResult:
    name = self._get_param("projectName")
    backend = self.codebuild_backend
    with LOCK:
        project = _project(backend, name, self.region, self.current_account)
        ids = backend.build_history.get(project.project_metadata["name"], [])
        ordered = _sorted_ids(backend, ids, self._get_param("sortOrder"))
    return ActionResult(_page(ordered, self._get_param("nextToken")))


def _list_builds_response(self: CodeBuildResponse) -> ActionResult:
    backend = self.codebuild_backend
    with LOCK:
        ids = [i for history in backend.build_history.values() for i in history]
        ordered = _sorted_ids(backend, ids, self._get_param("sortOrder"))
    return ActionResult(_page(ordered, self._get_param("nextToken")))


def _stop_build_response(self: CodeBuildResponse) -> ActionResult:
    build_id = self._get_param("id") or ""
    if ":" not in build_id:
        raise InvalidInputException("Invalid build ID provided")
    return ActionResult({"build": stop_build(self.codebuild_backend, build_id).describe()})
