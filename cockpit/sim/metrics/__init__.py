"""The simulated services' metrics: traffic model, /metrics exposition, a Prometheus query API."""
