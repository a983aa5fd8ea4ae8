"""TensorRT engines: built once per host (``make engines``), named as nvinfer names them, reused when nothing
changed, refused when built for another GPU or TensorRT, and kept only after a parity gate against ONNX Runtime."""
