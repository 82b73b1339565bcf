"""The FastAPI app Airflow's API server mounts at ``/mlops-orchestrator``: MWO's API and the pipelines page.

MWO's scripts post JSON (sometimes without a JSON content type: API Gateway read the raw body),
so bodies are read and parsed here, and errors answer MWO's shape ``{"message": ...}``, with every
problem of an invalid config under ``problems``. Routes are plain functions: FastAPI runs them in
its thread pool, where blocking AWS and database calls belong.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .auth import CREATE, EDIT, READ, User, allowed, require
from .paths import PAGE_PATH

log = logging.getLogger(__name__)

#: MWO's model card operations, routed by provisionpipeline to ``mlops_orchestrator.model_cards``
MODEL_CARD_TYPES = frozenset(
    {
        "create_model_card",
        "update_model_card",
        "describe_model_card",
        "delete_model_card",
        "export_model_card",
        "list_model_cards",
    }
)


def _message(status_code: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status_code)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except ValueError as err:
        raise HTTPException(400, f"Bad request: the body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "Bad request: the body must be a JSON object (an MWO request payload)")
    return body


def _settings():
    from .settings import ApiSettings, SettingsError

    try:
        return ApiSettings.from_airflow()
    except SettingsError as err:
        raise HTTPException(500, str(err)) from None


def _problems(items) -> list[dict[str, Any]]:
    from mlops_orchestrator.pipelines.catalog import problem_dict

    return [problem_dict(p) for p in items]


@cache
def create_app() -> FastAPI:
    app = FastAPI(
        title="MLOps Orchestrator",
        description="MWO's provisioning and status API on Airflow (airflow-provider-mlops-orchestrator). "
        "Authenticate as for Airflow's REST API: a bearer token from POST /auth/token.",
    )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        # MWO's scripts read "message"; Airflow's clients read "detail": both are given
        return JSONResponse(
            {"message": exc.detail, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.post("/provisionpipeline")
    async def provisionpipeline(request: Request, user: User, run: bool = True) -> Response:
        """
        Validate an MWO body and write it as a pipeline config (or run a model card operation).

        ``run`` (default true, as MWO deployed what it provisioned): once Airflow has parsed the
        new config, unpause the DAG and trigger a deploy run.
        """
        body = await _json_body(request)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_provision, body, user, run)

    @app.post("/pipelinestatus")
    async def pipelinestatus(request: Request, user: User) -> Response:
        """A pipeline's state: last run and steps, each stage and account with its resources."""
        body = await _json_body(request)
        pipeline_id = body.get("pipeline_id")
        if not isinstance(pipeline_id, str) or not pipeline_id.strip():
            raise HTTPException(400, "Bad request. API body does not have the necessary parameter: pipeline_id")
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_status, pipeline_id, user)

    @app.get("/pipelines")
    def pipelines(user: User) -> Response:
        """Every pipeline config the user may read: type, file, DAG state and last run; broken ones first."""
        from mlops_orchestrator.pipelines.catalog import list_pipelines
        from mlops_orchestrator.pipelines.status import runs_of, summary_state

        settings = _settings()
        require(user, READ)
        items = []
        for entry in list_pipelines(settings.config_folder):
            if not allowed(user, READ, entry.dag_id):
                continue
            item = entry.to_dict()
            found = runs_of(entry.dag_id, limit=1)
            item["dag"] = found["dag"]
            item["last_run"] = found["last_run"] and {k: v for k, v in found["last_run"].items() if k != "steps"}
            item["state"] = summary_state(item)
            items.append(item)
        items.sort(key=lambda i: (i["valid"], i["file"]))
        return JSONResponse(
            {
                "pipelines": items,
                "total": len(items),
                "invalid": sum(1 for i in items if not i["valid"]),
                "config_folder": str(settings.config_folder),
            }
        )

    @app.get(PAGE_PATH, response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The pipelines page (Airflow shows it in an iframe under Browse); its data comes from the API above."""
        return HTMLResponse(_static("pipelines.html"))

    @app.get("/ui/pipelines.js", include_in_schema=False)
    def page_script() -> Response:
        return Response(_static("pipelines.js"), media_type="text/javascript")

    return app


def _static(name: str) -> str:
    return resources.files("mlops_orchestrator.api").joinpath("static", name).read_text(encoding="utf-8")


# -- provisionpipeline --------------------------------------------------------------------------


def _provision(body: dict[str, Any], user, run: bool) -> Response:
    from .provisioning import Conflict, InvalidBody, dag_id_of, provision, validate_body

    settings = _settings()
    pipeline_type = body.get("pipeline_type")
    if isinstance(pipeline_type, str) and pipeline_type.strip().lower() in MODEL_CARD_TYPES:
        return _model_card(body, user, settings)
    try:
        validated = validate_body(body, settings)
    except InvalidBody as err:
        require(user, EDIT)  # no validation details for someone who may not provision at all
        return _message(
            400,
            f"Bad request. The pipeline config is invalid: {len(err.problems)} problem(s)",
            problems=_problems(err.problems),
            warnings=_problems(err.warnings),
        )
    dag_id = dag_id_of(validated.config)
    require(user, EDIT, dag_id)
    if run:
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

        require(user, CREATE, dag_id, DagAccessEntity.RUN)
    from . import runs

    before = runs.dag_version(dag_id)
    try:
        written = provision(body, validated, settings)
    except Conflict as err:
        return _message(409, f"Conflict: {err}")
    log.info("provisionpipeline: %s wrote %s (created=%s, changed=%s)", user.get_name(), written.file, written.created, written.changed)
    if written.created:
        message = f"success: pipeline {dag_id} provisioned as {written.file}"
    elif written.changed:
        message = f"Pipeline {dag_id} is already provisioned. Updating its config {written.file}."
    else:
        message = f"Pipeline {dag_id} is already provisioned. No updates are to be performed."
    answer: dict[str, Any] = {
        "message": message,
        "pipeline_id": dag_id,
        "dag_id": dag_id,
        "config_file": written.file,
        "created": written.created,
        "changed": written.changed,
        "warnings": _problems(written.warnings),
        "run": None,
    }
    if written.changed or before is None:
        runs.request_parse(settings.config_folder)
    if run:
        answer["run"] = _start_run(dag_id, before, written.changed, settings.run_wait_seconds, user.get_name())
    return JSONResponse(answer)


def _start_run(dag_id: str, before: str | None, changed: bool, wait: float, user_name: str) -> dict[str, Any]:
    from . import runs

    if (changed or before is None) and not runs.wait_for_new_version(dag_id, before, wait):
        return {
            "state": "not_triggered",
            "reason": f"Airflow had not parsed the new config within {wait:.0f} s; trigger DAG {dag_id} "
            "once it shows (or post the same body again)",
        }
    return runs.trigger(dag_id, user_name)


#: model card operations that only read (DAG read access suffices, as for pipelinestatus)
MODEL_CARD_READS = frozenset({"describe_model_card", "list_model_cards"})


def _model_card(body: dict[str, Any], user, settings) -> Response:
    """MWO's model card operations: ``mlops_orchestrator.model_cards`` when this build has it."""
    require(user, READ if body["pipeline_type"].strip().lower() in MODEL_CARD_READS else EDIT)
    import importlib

    try:
        model_cards = importlib.import_module("mlops_orchestrator.model_cards")
    except ModuleNotFoundError as err:
        if err.name != "mlops_orchestrator.model_cards":
            raise
        return _message(
            501,
            f"Model card operations ({body['pipeline_type']}) are not in this build of "
            "airflow-provider-mlops-orchestrator",
        )
    defaults = settings.orchestrator_defaults()
    try:
        result = model_cards.handle_request(
            body,
            aws_conn_id=defaults.get("aws_conn_id") or "aws_default",
            region_name=defaults.get("region_name"),
            assets_bucket=defaults.get("assets_bucket"),
        )
    except model_cards.ModelCardRequestError as err:
        return _message(400, f"Bad request. {err}", problems=_problems(err.problems))
    except Exception as err:  # AWS refused (access, throttling): say so rather than a bare 500
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(err, ClientError | BotoCoreError):
            raise
        log.warning("provisionpipeline %s: %s", body["pipeline_type"], err)
        return _message(502, f"SageMaker did not do {body['pipeline_type']}: {err}")
    return JSONResponse(json.loads(json.dumps(result, default=str)))


# -- pipelinestatus -----------------------------------------------------------------------------


def _status(pipeline_id: str, user) -> Response:
    from mlops_orchestrator.pipelines.catalog import find_pipeline, list_pipelines
    from mlops_orchestrator.pipelines.status import airflow_clients, pipeline_status

    settings = _settings()
    entry = find_pipeline(list_pipelines(settings.config_folder), pipeline_id)
    if entry is None:
        require(user, READ)
        return _message(404, f"No pipeline {pipeline_id!r} in {settings.config_folder} (a DAG id or a stack name)")
    require(user, READ, entry.dag_id)
    return JSONResponse(json.loads(json.dumps(pipeline_status(entry, airflow_clients), default=str)))
