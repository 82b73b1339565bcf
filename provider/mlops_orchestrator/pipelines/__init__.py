"""Pipelines as their users see them: the configs of a folder (valid or not) and each one's state.

Shared by the plugin's API and page (``mlops_orchestrator.api``) and ``mlops-orchestrator status``,
so the three say the same thing. ``catalog`` reads config files only (no Airflow, no AWS);
``status`` adds the Airflow runs and what the pipeline deployed in each account.
"""
