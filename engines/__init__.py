"""TensorRT engines: built once, named as nvinfer expects, reused when nothing changed."""
