"""The demo world: a simulated GitLab, Kubernetes cluster with Argo Rollouts, and service metrics.

It speaks only HTTP and imports nothing else from cockpit, so real clients (python-gitlab,
kubectl, lightkube, the kubernetes client, Prometheus) exercise it exactly as they would
the real systems. Start it with :func:`cockpit.sim.server.simulate` or ``cockpit sim``.
"""
