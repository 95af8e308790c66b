"""COCO CenterNet (MobileNetV3, 80 classes) from the npm package ``@vladmandic/human``.

``convert`` fetches the package at a pinned version with npm, checks its integrity and turns
its TFJS graph model into ``models/centernet.onnx`` (numpy and ``onnx`` only, no TensorFlow);
``detector`` runs that file on onnxruntime and decodes the heatmap in numpy. Nothing here
downloads at run time: a missing model file is an error naming the command that makes it.

This module only holds constants and the conversion's error (no heavy imports), so every
part can share them. The conversion is split into :mod:`.fetch` (npm), :mod:`.tfjs` (reading
the TFJS files), :mod:`.onnx_graph` (TF ops to ONNX nodes) and :mod:`.convert` (the build and
its command line).
"""

from __future__ import annotations

from analytics_pipeline.errors import PipelineError

#: Side of the square network input (plain resize, no letterbox), RGB float 0..255, NHWC.
INPUT_SIZE = 512
#: Input pixels per heatmap cell.
STRIDE = 4
#: Names of the ONNX model's input and outputs (outputs are NCHW: 1x80x128x128, 1x4x128x128).
INPUT_NAME = "images"
HEATMAP_OUTPUT = "keypoints"
BOXES_OUTPUT = "wh"
#: The command that makes the model file, quoted in errors.
BUILD_COMMAND = "python -m analytics_pipeline.centernet.convert"


class ConversionError(PipelineError):
    """The TFJS model could not be fetched or converted; the message says why."""


#: The 80 COCO classes in the model's channel order (the standard COCO detection order).
COCO_CLASSES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)
