"""Multi-object tracking: ByteTrack-style association with a Kalman motion model."""
