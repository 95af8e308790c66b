"""ANPR: find plates, read them with PP-OCR, and keep one group of reads per passing vehicle.

Where plates are looked for, per camera (:class:`~.plate_reader.PlateReader`), in this order:

1. the detector's plate class (``licence_plate``...), where the model has one: the box is read
   as it is (PP-OCR recognition), with text detection around it when that fails;
2. PP-OCR text detection (DB) inside each tracked vehicle box (car, bus, truck, motorcycle...)
   that holds no plate box, whatever detector found the vehicle;
3. PP-OCR text detection inside the motion regions: all of them on a plate camera
   (``"anpr": "plate_camera"``) or where the detector knows no vehicle class; otherwise the
   motion that no detection explains (the mask without the detections' boxes: a vehicle the
   detector missed). These reads are grouped into passing vehicles by a
   :class:`~.plate_tracker.PlateTracker`, or join the vehicle track whose plate they agree with.

Text boxes of a plate's size and shape are recognised; the normalised text must pass the
camera's ``plate_pattern`` or the plate-likeness rule (:class:`~.plate_finder.PlateRule`).
Reads of one vehicle are voted on; one ``anpr`` event per vehicle. Cost control: OCR only on
vehicle boxes, plate boxes and motion regions, at most ``anpr_max_regions`` a frame, never again
on a settled vehicle (:data:`SETTLED_READS` identical reads), at most ``anpr_fps`` passes a
second, where the detector finds vehicles the motion regions at most once a second
(:data:`FALLBACK_SECONDS`, the :data:`FALLBACK_REGIONS` largest, not a spot searched in vain
in the last :data:`VAIN_SECONDS`), and a vehicle read
:data:`FRUITLESS_READS` times in vain again after 1, 2, 4... seconds; the time spent is
counted (``PlateReader.seconds``). OpenCV's Haar plate cascade is not used: on rendered
plates of several styles it found 38 of 60 plates, PP-OCR's detector all 60.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from analytics_pipeline.analyzer.annotators import annotate
from analytics_pipeline.analyzer.ocr import OcrEngine, PaddleOcrEngine, RapidOcrEngine, build_ocr
from analytics_pipeline.analyzer.plate_finder import TextLine, clear_of_edges, normalise_plate
from analytics_pipeline.analyzer.plate_reader import (
    PlateReader,
    Region,
    box_of,
    coverage,
    motion_regions,
    owner,
)
from analytics_pipeline.analyzer.plate_tracker import (
    SETTLED_READS,
    PlateTracker,
    VehiclePlates,
    centre,
    closest,
    holds,
    iou,
)
from analytics_pipeline.analyzer.sources import Frame
from analytics_pipeline.analyzer.types import PLATE_CLASSES, VEHICLE_CLASSES, Detection, PlateRead

__all__ = [
    "SETTLED_READS",
    "Anpr",
    "OcrEngine",
    "PaddleOcrEngine",
    "PlateReader",
    "RapidOcrEngine",
    "VehiclePlates",
    "build_ocr",
    "motion_regions",
    "normalise_plate",
]
DUPLICATE_SECONDS = 5.0  # a plate read again this soon after its vehicle was seen is that vehicle
MIN_READS = 2  # a vehicle whose plate was read once only gives no event
GROWN = 0.15  # detection boxes cleared from the motion mask, grown by this share of their size
UPRIGHT = 0.7  # a motion region narrower than this (width / height) is a person's shape
# Where the detector finds vehicles, the motion regions are a safety net for one it missed:
# searched once a second, not at every pass (text detection there was 70% of a busy camera's
# frame time on real footage: people crossing a square).
FALLBACK_SECONDS = 1.0
# A vehicle box read this many times without a plate (parked far away, plate hidden) is then
# read after 1 s, 2 s, 4 s... (at most FRUITLESS_MAX_SECONDS) until a read succeeds.
FRUITLESS_READS = 3
FRUITLESS_SECONDS = 1.0
FRUITLESS_MAX_SECONDS = 8.0
FALLBACK_REGIONS = 2  # motion regions searched at a fallback pass, the largest first
# A fallback region searched in vain is not searched again for this long while motion stays
# at that spot (IoU >= VAIN_IOU): a sign with text, a group standing about, the trace a person
# who stood still leaves in the motion model. A passing vehicle moves on and is read.
VAIN_SECONDS = 8.0
VAIN_IOU = 0.5


def unexplained_motion(
    mask: np.ndarray, detections: Sequence[Detection], frame_shape: tuple[int, ...]
) -> np.ndarray:
    """The motion mask without what the detections explain: their boxes, grown by
    :data:`GROWN` (a shadow, a swinging arm), cleared."""
    residual = mask.copy()
    scale = frame_shape[1] / mask.shape[1]
    for d in detections:
        grow_x, grow_y = GROWN * (d.x2 - d.x1), GROWN * (d.y2 - d.y1)
        x1, y1 = max(0, int((d.x1 - grow_x) / scale)), max(0, int((d.y1 - grow_y) / scale))
        y2, x2 = max(0, int((d.y2 + grow_y) / scale) + 1), max(0, int((d.x2 + grow_x) / scale) + 1)
        residual[y1:y2, x1:x2] = 0
    return residual


def fallback_region(region: Region) -> bool:
    """An unexplained motion region worth searching for a vehicle the detector missed: not a
    walking person's upright shape."""
    x1, y1, x2, y2 = region
    return (x2 - x1) >= UPRIGHT * (y2 - y1)


class Anpr:
    """One camera's ANPR over time: reads grouped per vehicle, finished vehicles handed out.

    ``by_vehicle``: the detector's vehicle tracks are read (step 2), and the motion no
    detection explains once a second, but for spots searched in vain lately; otherwise every
    motion region is searched (step 3). A
    finished vehicle whose plate was handed out for a vehicle seen until shortly before is that
    vehicle again (a track broken in two) and is not handed out twice.
    """

    def __init__(
        self, reader: PlateReader, *, by_vehicle: bool, anpr_fps: float | None = None
    ) -> None:
        self.reader = reader
        self.by_vehicle = by_vehicle
        self.interval = 0.9 / anpr_fps if anpr_fps else 0.0
        self.vehicles: dict[int, VehiclePlates] = {}
        self.plates = PlateTracker()
        self.last_pass: datetime | None = None
        self.last_fallback: datetime | None = None
        self.vain: list[tuple[Region, datetime]] = []  # (region searched in vain, skipped until)
        self.fruitless: dict[int, int] = {}  # vehicle track -> reads in a row without a plate
        self.next_try: dict[int, datetime] = {}  # vehicle track -> when it is read again
        self.handed_out: dict[str, datetime] = {}  # plate -> when its vehicle was last seen
        self.warm_up_passes = 0

    def process(
        self,
        frame: Frame,
        detections: Sequence[Detection],
        motion_mask: np.ndarray | None,
        *,
        warming_up: bool = False,
    ) -> None:
        """Read the plates of this frame (when the ``anpr_fps`` cap allows). While the motion
        detector warms up (a stream's first second or two) the whole frame is searched, so
        that a vehicle already in view when a stream starts is read."""
        if self.last_pass is not None and (
            (frame.moment - self.last_pass).total_seconds() < self.interval
        ):
            return
        self.last_pass = frame.moment
        before = self.reader.regions
        vehicles = [d for d in detections if d.class_name in VEHICLE_CLASSES]
        plate_boxes = [d for d in detections if d.class_name in PLATE_CLASSES]
        if self.by_vehicle:
            self._by_vehicle(frame, vehicles, plate_boxes)
            plate_boxes = [p for p in plate_boxes if owner(p.centre, vehicles) is None]
        room = self.reader.max_regions - (self.reader.regions - before)
        height, width = frame.image.shape[:2]
        fallback = self.by_vehicle and not warming_up
        due = not fallback or (
            self.last_fallback is None
            or (frame.moment - self.last_fallback).total_seconds() >= FALLBACK_SECONDS
        )
        regions: list[Region] = []
        if warming_up:  # every other pass: the whole frame costs several regions
            self.warm_up_passes += 1
            if self.warm_up_passes % 2:
                regions = [(0.0, 0.0, float(width), float(height))]
        elif motion_mask is not None and due:
            if self.by_vehicle:  # a safety net for vehicles the detector missed
                motion_mask = unexplained_motion(motion_mask, detections, frame.image.shape)
            regions = motion_regions(motion_mask, frame.image.shape, self.reader.max_regions)
        if fallback:
            self.vain = [(r, until) for r, until in self.vain if frame.moment < until]
            regions = [
                r
                for r in regions
                if fallback_region(r) and all(iou(r, spot) < VAIN_IOU for spot, _ in self.vain)
            ][:FALLBACK_REGIONS]
            if regions:
                self.last_fallback = frame.moment
        regions = [r for r in regions if not self.plates.only_settled_in(r, frame.moment)]
        if room > 0 and (regions or plate_boxes):
            searched, read = self._by_motion(frame, plate_boxes, regions, room)
            if fallback:
                until = frame.moment + timedelta(seconds=VAIN_SECONDS)
                self.vain += [
                    (r, until) for r in searched if not any(holds(r, centre(b)) for b in read)
                ]

    def _by_vehicle(
        self, frame: Frame, vehicles: list[Detection], plate_boxes: list[Detection]
    ) -> None:
        # A vehicle whose plate is settled is not read again (its track still ends with one
        # anpr event holding every read); the others, fewest reads first.
        def reads(d: Detection) -> int:
            plates = self.vehicles.get(d.track_id or 0)
            return len(plates.reads) if plates else 0

        settled = {t for t, plates in self.vehicles.items() if plates.settled}
        resting = {t for t, moment in self.next_try.items() if frame.moment < moment}
        vehicles = sorted(vehicles, key=lambda d: (reads(d), -(d.x2 - d.x1) * (d.y2 - d.y1)))
        skip = settled | resting
        found = self.reader.plates_for(frame.image, [*vehicles, *plate_boxes], skip=skip)
        tried = [d.track_id for d in vehicles if d.track_id and d.track_id not in skip]
        self._count_fruitless(frame.moment, tried[: self.reader.max_regions], found)
        for vehicle, read in found:
            assert vehicle.track_id is not None
            plates = self.vehicles.get(vehicle.track_id)
            if plates is not None and not plates.agrees(read.text):
                # another plate on this track: the tracker swapped two vehicles that crossed,
                # so this read is grouped by where the plate is, as in motion regions
                self._to_plate_track(frame, read, (read.x1, read.y1, read.x2, read.y2), None)
                continue
            plates = self.vehicles.setdefault(
                vehicle.track_id, VehiclePlates(vehicle.track_id, vehicle.class_name)
            )
            earlier = self.plates.by_text(read.text)  # read in motion regions before
            if earlier is not None:
                self.plates.forget(earlier)
                plates.merge(earlier)
            self._add(plates, frame, read, vehicle)

    def _count_fruitless(
        self, moment: datetime, tried: list[int], found: list[tuple[Detection, PlateRead]]
    ) -> None:
        read = {vehicle.track_id for vehicle, _ in found}
        for track_id in tried:
            if track_id in read:
                self.fruitless.pop(track_id, None)
                self.next_try.pop(track_id, None)
                continue
            self.fruitless[track_id] = self.fruitless.get(track_id, 0) + 1
            misses = self.fruitless[track_id] - FRUITLESS_READS
            if misses >= 0:
                wait = min(FRUITLESS_SECONDS * 2**misses, FRUITLESS_MAX_SECONDS)
                self.next_try[track_id] = moment + timedelta(seconds=wait)

    def _add(
        self, plates: VehiclePlates, frame: Frame, read: PlateRead, vehicle: Detection | None
    ) -> None:
        plates.last_seen = frame.moment
        if plates.add(read, frame.moment):
            boxes = [vehicle] if vehicle is not None else []
            image = annotate(frame.image, frame.moment, detections=boxes, plates=[read])
            plates.keep_shot(read, Frame(image, frame.number, frame.moment))

    def _agreeing_vehicle(self, text: str) -> VehiclePlates | None:
        """The vehicle track whose plate ``text`` may be, if any."""
        return closest(text, self.vehicles.values())

    def _by_motion(
        self, frame: Frame, plate_boxes: list[Detection], regions: list[Region], room: int
    ) -> tuple[list[Region], list[Region]]:
        """Read the plate boxes and the plate lines in the regions (as many as ``room`` leaves
        after the plate boxes): the regions searched, and the boxes of the plates read."""
        height, width = frame.image.shape[:2]
        found: list[TextLine | Detection] = [
            d for d in plate_boxes if clear_of_edges(box_of(d), width, height)
        ][:room]
        room -= len(found)
        searched = regions[:room] if room > 0 else []
        if searched:
            lines = self.reader.lines_in(frame.image, searched)
            found += [
                line
                for line in lines
                if all(coverage(line.box, [d]) < 0.3 for d in found if isinstance(d, Detection))
            ]
        boxes = [box_of(f) if isinstance(f, Detection) else f.box for f in found]
        read_boxes: list[Region] = []
        for item, box, track in zip(
            found, boxes, self.plates.match(boxes, frame.moment), strict=True
        ):
            if track is not None and track.settled:
                self.plates.seen(track, box, frame.moment)  # followed, not read again
                continue
            read = self.reader.read_timed(frame.image, item)
            if read is None:
                if track is not None:
                    self.plates.seen(track, box, frame.moment)
                continue
            read_boxes.append(box)
            vehicle = self._agreeing_vehicle(read.text) if self.by_vehicle else None
            if vehicle is not None:  # a tracked vehicle's plate, found outside its box
                if track is not None and track.agrees(read.text):
                    self.plates.forget(track)
                    vehicle.merge(track)
                self._add(vehicle, frame, read, None)
                continue
            self._to_plate_track(frame, read, box, track)
        return searched, read_boxes

    def _to_plate_track(
        self, frame: Frame, read: PlateRead, box: Region, track: VehiclePlates | None
    ) -> None:
        """Add a read to the plate track at ``box`` (``track``, when it agrees), or to the one
        whose plate it is, or to a new one."""
        if track is None or not track.agrees(read.text):
            track = self.plates.by_text(read.text)
        track = self.plates.seen(track, box, frame.moment)
        self._add(track, frame, read, None)

    def _finished(self, plates: VehiclePlates | None) -> VehiclePlates | None:
        best = plates.best() if plates else None
        if plates is None or best is None or plates.best_shot is None:
            return None
        if len(plates.reads) < MIN_READS:  # one stray read: a plate half hidden, a misread
            return None
        last_seen = plates.last_seen or plates.best_shot.moment
        first = plates.first_read or last_seen
        before = self.handed_out.get(best.text)
        self.handed_out = {
            text: moment
            for text, moment in self.handed_out.items()
            if (last_seen - moment).total_seconds() < DUPLICATE_SECONDS
        }
        self.handed_out[best.text] = max(last_seen, before or last_seen)
        if before is not None and (first - before).total_seconds() < DUPLICATE_SECONDS:
            return None
        return plates

    def vehicle_left(self, track_id: int) -> VehiclePlates | None:
        """The reads of a vehicle track that left (None: no plate, or already handed out)."""
        self.fruitless.pop(track_id, None)
        self.next_try.pop(track_id, None)
        return self._finished(self.vehicles.pop(track_id, None))

    def ended(self, moment: datetime) -> list[VehiclePlates]:
        """Plate-tracked vehicles gone by ``moment``."""
        gone = [self._finished(p) for p in self.plates.ended(moment)]
        return [p for p in gone if p is not None]

    def close(self) -> list[VehiclePlates]:
        """Every vehicle still followed (the end of the stream)."""
        rest = [*self.vehicles.values(), *self.plates.close()]
        self.vehicles.clear()
        rest.sort(key=lambda p: p.last_seen.timestamp() if p.last_seen else 0.0)
        finished = [self._finished(p) for p in rest]
        return [p for p in finished if p is not None]
