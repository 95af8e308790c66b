"""One camera's analysis: frames in, events out (motion, detection, tracking, anpr, counting
lines, zone events), and the clips of its events (``ENABLE_CLIPS``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

from analytics_pipeline.analyzer.annotators import annotate
from analytics_pipeline.analyzer.anpr import Anpr, PlateReader, VehiclePlates
from analytics_pipeline.analyzer.camera_settings import CameraSettings
from analytics_pipeline.analyzer.clips import ClipRecorder
from analytics_pipeline.analyzer.lines import CountingLine, Crossing, LineCounter
from analytics_pipeline.analyzer.motion import MotionChange, MotionDetector
from analytics_pipeline.analyzer.output import EventSink
from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.analyzer.track_events import Track, TrackBook
from analytics_pipeline.analyzer.tracker import Tracker
from analytics_pipeline.analyzer.types import PLATE_CLASSES, VEHICLE_CLASSES, Detection
from analytics_pipeline.analyzer.zones import EventZone, ZoneChange, ZoneWatcher
from analytics_pipeline.events import NewEvent
from analytics_pipeline.payloads import (
    AnprData,
    DetectedObject,
    DetectionData,
    LineCrossedData,
    MotionData,
    Payload,
    PlateReadData,
    ZoneEnteredData,
    ZoneLeftData,
)
from analytics_pipeline.snapshots import EncodedFile

log = logging.getLogger(__name__)
BURST_GAP_SECONDS = 2.0  # a detection burst starts after this long without detections


@dataclass
class CameraCounts:
    events: dict[str, int] = field(default_factory=dict)
    plates: list[str] = field(default_factory=list)
    frames: int = 0  # analysed
    ocr_seconds: float = 0.0  # spent reading plates


def finds_vehicles(tracker: Tracker | None, classes: list[str] | None) -> bool:
    """Whether the camera's detector reports vehicles (a people-only model does not)."""
    names = set(tracker.class_names) if tracker is not None else set()
    if classes:
        names &= set(classes)
    return bool(names & VEHICLE_CLASSES)


def _boxes(detections: list[Detection]) -> list[Detection]:
    """What a snapshot draws as class boxes (plates have an overlay of their own)."""
    return [d for d in detections if d.class_name not in PLATE_CLASSES]


class CameraAnalyzer:
    """Runs motion, detection and tracking, and ANPR on one camera's frames."""

    def __init__(
        self,
        camera_id: str,
        settings: CameraSettings,
        sink: EventSink,
        tracker: Tracker | None,
        plate_reader: PlateReader | None,
        frame_size: tuple[int, int],
    ) -> None:
        self.camera_id = camera_id
        self.settings = settings
        self.sink = sink
        self.tracker = tracker
        self.plate_reader = plate_reader
        width, height = frame_size
        self.region = settings.region_mask(width, height)
        self.motion = MotionDetector(
            sensitivity=settings.motion_sensitivity,
            min_area_percent=settings.motion_min_area_percent,
            fps=settings.fps,
            region_mask=self.region,
        )
        self.tracks = TrackBook.for_rate(settings.fps)
        lines = [
            CountingLine.from_relative(x.name, x.points, width, height) for x in settings.lines
        ]
        self.lines = LineCounter.for_rate(lines, settings.fps, frame_size)
        zones = [
            EventZone.from_relative(z.name, z.points, width, height) for z in settings.event_zones
        ]
        self.zones = ZoneWatcher.for_rate(zones, settings.fps)
        self.clips: ClipRecorder | None = None
        if getattr(sink.snapshots, "clips", False) and settings.clip_events:
            self.clips = ClipRecorder(
                camera_id,
                self._emit_clip,
                event_types=settings.clip_events,
                pre_seconds=settings.clip_pre_seconds,
                post_seconds=settings.clip_post_seconds,
                fps=settings.fps,
            )
        self.anpr: Anpr | None = None
        if plate_reader is not None and settings.anpr != "off":
            plate_reader.max_regions = settings.anpr_max_regions
            by_vehicle = settings.anpr == "auto" and finds_vehicles(tracker, settings.classes)
            self.anpr = Anpr(plate_reader, by_vehicle=by_vehicle, anpr_fps=settings.anpr_fps)
        self.last_detection_at: datetime | None = None
        self.last_frame: Frame | None = None
        self.last_detections: list[Detection] = []
        self.counts = CameraCounts()

    def _emit(
        self, event_type: str, frame: Frame, payload: Payload, image: np.ndarray | None
    ) -> None:
        event = self.sink.emit(
            self.camera_id, event_type, frame.moment, frame.number, payload.event_data(), image
        )
        self.counts.events[event_type] = self.counts.events.get(event_type, 0) + 1
        if self.clips is not None and self.clips.wants(event_type):
            self.clips.start(event)

    def _emit_clip(
        self, event_type: str, moment: datetime, number: int, data: dict, clip: EncodedFile
    ) -> NewEvent:
        """``clip_ready``, from the clip worker thread (the sink is thread-safe)."""
        event = self.sink.emit(self.camera_id, event_type, moment, number, data, clip)
        self.counts.events[event_type] = self.counts.events.get(event_type, 0) + 1
        return event

    def _in_region(self, detection: Detection) -> bool:
        if self.region is None:
            return True
        x, y = (int(v) for v in detection.centre)
        height, width = self.region.shape
        return 0 <= x < width and 0 <= y < height and self.region[y, x] > 0

    def process(self, frame: Frame) -> None:
        """Analyse one frame; emits the events it causes."""
        self.last_frame = frame
        self.counts.frames += 1
        if self.clips is not None:
            self.clips.add(frame)
        change = self.motion.update(frame.image, frame.moment)
        if change is not None:
            self._motion(frame, change)
        if self.tracker is None:
            self._read_plates(frame, [])
            return
        moving = self.motion.active or bool(self.tracks.tracks)
        detections: list[Detection] = []
        if moving or not self.settings.detect_only_with_motion:
            detections = [d for d in self.tracker.track(frame.image) if self._in_region(d)]
            if self.settings.classes:
                detections = [
                    d
                    for d in detections
                    if d.class_name in self.settings.classes or d.class_name in PLATE_CLASSES
                ]
        self.last_detections = detections
        objects = [d for d in detections if d.class_name not in PLATE_CLASSES]
        if objects:
            gap = (
                (frame.moment - self.last_detection_at).total_seconds()
                if self.last_detection_at
                else None
            )
            if gap is None or gap >= BURST_GAP_SECONDS:
                self._detection_burst(frame, objects)
            self.last_detection_at = frame.moment
        entered, left = self.tracks.update(objects, frame.moment)
        for track in entered:
            self._tracking(frame, track, "entered")
        for crossing in self.lines.update(objects, frame.moment):
            self._line_crossed(frame, crossing)
        for change in self.zones.update(objects, frame.moment):
            self._zone_event(frame, change)
        self._read_plates(frame, detections)
        for track in left:
            self._tracking(frame, track, "left")

    def finish(self) -> None:
        """End of stream: close motion, every track and every plate."""
        frame = self.last_frame
        if frame is None:
            return
        change = self.motion.end(frame.moment)
        if change is not None:
            self._motion(frame, change)
        for change in self.zones.close():
            self._zone_event(frame, change)
        for track in self.tracks.close():
            self._tracking(frame, track, "left")
        if self.anpr is not None:
            for plates in self.anpr.close():
                self._plate_event(plates)
        if self.clips is not None:
            self.clips.close()

    def _motion(self, frame: Frame, change: MotionChange) -> None:
        payload = MotionData(
            state=change.state,
            area_percent=change.area_percent,
            regions=change.regions,
            duration_seconds=change.duration_seconds,
        )
        image = annotate(frame.image, frame.moment, motion_mask=self.motion.mask)
        self._emit("motion", frame, payload, image)

    def _detection_burst(self, frame: Frame, objects: list[Detection]) -> None:
        counts: dict[str, int] = {}
        for d in objects:
            counts[d.class_name] = counts.get(d.class_name, 0) + 1
        payload = DetectionData(
            objects=[
                DetectedObject(
                    class_name=d.class_name,
                    confidence=round(d.confidence, 4),
                    box=d.box,
                    track_id=d.track_id,
                )
                for d in objects
            ],
            counts=counts,
        )
        image = annotate(frame.image, frame.moment, detections=_boxes(objects))
        self._emit("detection", frame, payload, image)

    def _tracking(self, frame: Frame, track: Track, action: Literal["entered", "left"]) -> None:
        image = annotate(frame.image, frame.moment, detections=_boxes([track.last]))
        self._emit("tracking", frame, track.payload(action), image)
        if action == "left" and self.anpr is not None:
            self._plate_event(self.anpr.vehicle_left(track.track_id))

    def _line_crossed(self, frame: Frame, crossing: Crossing) -> None:
        d = crossing.detection
        assert d.track_id is not None
        payload = LineCrossedData(
            line=crossing.line.name,
            direction=crossing.direction,
            track_id=d.track_id,
            class_name=d.class_name,
            confidence=round(d.confidence, 4),
            box=d.box,
            point=[round(v, 1) for v in crossing.point],
        )
        image = annotate(frame.image, frame.moment, detections=[d], lines=[crossing.line])
        self._emit("line_crossed", frame, payload, image)

    def _zone_event(self, frame: Frame, change: ZoneChange) -> None:
        visit, d = change.visit, change.detection
        fields = {
            "zone": visit.zone.name,
            "track_id": visit.track_id,
            "class_name": d.class_name,
            "confidence": round(d.confidence, 4),
            "box": d.box,
            "entered_at": visit.first_inside,
        }
        payload: Payload = (
            ZoneEnteredData(**fields)
            if change.action == "entered"
            else ZoneLeftData(
                **fields, left_at=visit.last_inside, dwell_seconds=visit.dwell_seconds
            )
        )
        image = annotate(frame.image, frame.moment, detections=[d], zones=[visit.zone])
        self._emit(f"zone_{change.action}", frame, payload, image)

    def _read_plates(self, frame: Frame, detections: list[Detection]) -> None:
        if self.anpr is None:
            return
        moving = self.motion.active or self.motion.area_percent >= self.motion.min_area_percent
        mask = self.motion.mask if moving else None
        self.anpr.process(frame, detections, mask, warming_up=self.motion.mask is None)
        assert self.plate_reader is not None
        self.counts.ocr_seconds = self.plate_reader.seconds
        for plates in self.anpr.ended(frame.moment):
            self._plate_event(plates)

    def _plate_event(self, plates: VehiclePlates | None) -> None:
        best = plates.best() if plates else None
        if plates is None or best is None or plates.best_shot is None:
            return
        payload = AnprData(
            plate=best.text,
            confidence=best.confidence,
            plate_box=best.box,
            track_id=plates.track_id,
            class_name=plates.class_name,
            reads=[PlateReadData(text=r.text, confidence=r.confidence) for r in plates.reads],
        )
        self._emit("anpr", plates.best_shot, payload, plates.best_shot.image)
        self.counts.plates.append(best.text)
