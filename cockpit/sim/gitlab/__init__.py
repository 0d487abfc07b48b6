"""The simulated GitLab: projects, pipelines that run in simulated time, deployments, files.

``state.GitLabState`` is the world's GitLab (built from ``history``, moved by
``step()``); ``api.create_app`` serves it as a REST API v4 subset that python-gitlab
uses unchanged. The other modules are the concepts it is made of: ``ci`` (CI templates
and the job graph), ``pipeline`` (jobs and pipelines progressing), ``repository``
(commits, trees, compare), ``flags`` (feature flags), ``finders`` (list filters and the
400 rules), ``trace`` (job logs) and ``entities`` (the JSON shapes).
"""
