"""Model runtimes behind one contract (:mod:`edgewatch.runtime.session`): ONNX Runtime on the CPU."""
