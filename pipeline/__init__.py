"""GStreamer shell: the CPU graph (embedded default) and the DeepStream adapters."""
