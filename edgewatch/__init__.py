"""edgewatch: per-track behaviour analysis for video, on the CPU and on NVIDIA edge hardware.

The package is the shared core (no GStreamer, pyds or TensorRT imports); the GStreamer/DeepStream
shell lives in ``edgewatch.pipeline`` (folder ``pipeline/``), model export in ``edgewatch.export``
(folder ``export/``) and TensorRT engine building in ``edgewatch.engines`` (folder ``engines/``).
"""

__version__ = "0.1.0"
