"""Model export: one entry point dispatching per model (YOLO, temporal) and precision (fp32, fp16, int8)."""
