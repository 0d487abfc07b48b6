"""The simulated Kubernetes cluster: object store, apiserver HTTP API and controllers."""
