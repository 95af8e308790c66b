"""The analyzer: camera sources, motion, detection and tracking, ANPR, and their events."""
