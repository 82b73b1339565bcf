"""Where the plugin lives on the API server (shared by the plugin, the app and the page)."""

URL_PREFIX = "/mlops-orchestrator"
PAGE_PATH = "/ui/pipelines"
