"""The benchmark harness (``edgewatch bench``, ``make bench``): one report of accuracy and latency per
precision, per model and end to end, against ultralytics' own loops. Speed targets live here, never in
timed tests. Installed as ``edgewatch.bench``."""
