"""Real sample clips, the SSD teacher and the distilled YOLO student used by the demo."""
