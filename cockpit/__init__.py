"""cockpit: a terminal deployment cockpit for GitLab pipelines, Argo Rollouts and Prometheus."""

__version__ = "0.1.0"
