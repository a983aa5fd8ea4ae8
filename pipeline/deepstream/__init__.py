"""The DeepStream backend (``[application] backend=deepstream``); see backend.py. Only pyds_probe imports pyds,
only servicemaker_probe imports pyservicemaker; graph, configs, translate and documented are pure."""
