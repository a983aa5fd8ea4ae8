"""Stages between decode and sinks (detector, tracker, temporal, OSD, events): pure, no GStreamer or pyds."""
