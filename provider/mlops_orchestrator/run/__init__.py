"""Run one pipeline's DAG once as a real Airflow DAG run (``mlops-orchestrator run``, ``demo``)."""
