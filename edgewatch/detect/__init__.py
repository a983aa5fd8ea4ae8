"""Detector-side core: letterbox preprocessing, YOLO output decoding, NMS, evaluation."""
