"""The Airflow plugin: MWO's API (``/mlops-orchestrator/provisionpipeline``, ``/pipelinestatus``,
``/pipelines``) and the pipelines page, mounted on Airflow's API server.

``plugin`` is what Airflow loads (through the ``airflow.plugins`` entry point, or ``plugins/``);
``app`` the FastAPI app; ``auth`` Airflow's auth manager as dependencies; ``provisioning`` a
validated body written as a config file; ``settings`` where configs live.
"""
