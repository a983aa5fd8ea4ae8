"""Model runtimes used by the CPU backend (ONNX Runtime)."""
