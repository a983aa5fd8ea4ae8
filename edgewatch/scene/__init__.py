"""Per-camera scenes: zones, lines, directions and the image-to-ground calibration (``[sourceN] scene=``).

``model`` (the frozen scene types), ``load`` (the YAML scene file, validated at load), ``geometry``
(vectorised plane geometry and homographies), ``nvdsanalytics`` (the scene as an nvdsanalytics config).
"""
