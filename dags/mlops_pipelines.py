"""Airflow DAG file of airflow-provider-mlops-orchestrator.

Every pipeline config (.yaml, .yml or .json, any depth, .airflowignore honoured) in this folder
becomes one DAG. Drop an MWO request payload here unchanged and its DAG appears at the next parse.
"""

from pathlib import Path

from mlops_orchestrator.factory import load_dags

load_dags(Path(__file__).resolve().parent, globals())
