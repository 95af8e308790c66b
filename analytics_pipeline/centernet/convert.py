"""Make ``models/centernet.onnx``: fetch ``@vladmandic/human`` from npm, convert its CenterNet.

The package ships ``models/centernet.json`` (a TFJS graph model: ``modelTopology.node`` lists
TensorFlow ops, ``weightsManifest`` the weights) and ``models/centernet.bin`` (the weights one
after another; float32 weights stored as float16, int32 ones as they are). :mod:`.fetch` gets
them, :mod:`.tfjs` reads them and :mod:`.onnx_graph` maps the graph up to its two heads,
``tower_0/keypoints`` (80-channel sigmoid heatmap, stride 4) and ``tower_0/wh`` (distances
left, top, right, bottom in input pixels), onto ONNX with numpy and the ``onnx`` helpers; this
module assembles and checks the model and writes it whole. The graph's own decoding (TopK,
Gather) is left out: it is done in numpy by :mod:`analytics_pipeline.centernet.detector`.

Layout: the ONNX input is NHWC like the TFJS one (``images``, 1x512x512x3, RGB 0..255); one
Transpose makes it NCHW and everything after stays NCHW, so the outputs are
``keypoints`` 1x80x128x128 and ``wh`` 1x4x128x128. TensorFlow's ``SAME`` padding puts the odd
pixel at the end (bottom/right); it becomes explicit ONNX pads computed from the known shapes.

Command line (idempotent: an existing valid model is kept)::

    python -m analytics_pipeline.centernet.convert [--out models/centernet.onnx] [--force]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from analytics_pipeline.centernet import (
    BOXES_OUTPUT,
    BUILD_COMMAND,
    HEATMAP_OUTPUT,
    INPUT_SIZE,
    ConversionError,
)
from analytics_pipeline.centernet.fetch import (
    NPM_INTEGRITY,
    NPM_PACKAGE,
    NPM_VERSION,
    fetch_package,
)
from analytics_pipeline.centernet.onnx_graph import GraphConverter
from analytics_pipeline.centernet.tfjs import load_tfjs
from analytics_pipeline.paths import project_root

log = logging.getLogger(__name__)

#: Bumped whenever the conversion changes, so an older generated file is rebuilt.
CONVERTER_VERSION = "2"
OPSET = 13
IR_VERSION = 7
TF_HEADS = {"tower_0/keypoints": HEATMAP_OUTPUT, "tower_0/wh": BOXES_OUTPUT}


def default_output() -> Path:
    """Where set-up writes the model: ``models/centernet.onnx`` under the project root."""
    return project_root() / "models" / "centernet.onnx"


def free_sides(value: onnx.ValueInfoProto, axes: tuple[int, ...], names: tuple[str, ...]) -> None:
    """Make the given axes of a graph input or output symbolic (any size)."""
    dims = value.type.tensor_type.shape.dim
    for axis, name in zip(axes, names, strict=True):
        dims[axis].ClearField("dim_value")
        dims[axis].dim_param = name


def convert(json_path: Path, bin_path: Path) -> onnx.ModelProto:
    """The ONNX model of the TFJS CenterNet up to its heatmap and box heads."""
    tf_nodes, weights = load_tfjs(json_path, bin_path)
    converter = GraphConverter(tf_nodes, weights)
    outputs = []
    for tf_name, onnx_name in TF_HEADS.items():
        value = converter.tensor(tf_name)
        converter.nodes.append(
            helper.make_node("Identity", [value.name], [onnx_name], name=onnx_name)
        )
        outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, value.shape))
    input_shape = tuple(d.dim_value for d in converter.inputs[0].type.tensor_type.shape.dim)
    if input_shape != (1, INPUT_SIZE, INPUT_SIZE, 3):
        raise ConversionError(f"the model's input is {input_shape}, expected 512x512 RGB")
    # Height and width free (multiples of 32): outputs are a quarter of each.
    free_sides(converter.inputs[0], (1, 2), ("height", "width"))
    for output in outputs:
        free_sides(output, (2, 3), ("height_4", "width_4"))
    graph = helper.make_graph(
        converter.nodes,
        "centernet",
        converter.inputs,
        outputs,
        initializer=converter.initializers,
    )
    model = helper.make_model(
        graph,
        producer_name="analytics_pipeline.centernet.convert",
        producer_version=CONVERTER_VERSION,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=(
            f"MobileNetV3 CenterNet (COCO, 80 classes) from the npm package {NPM_PACKAGE}@"
            f"{NPM_VERSION} (MIT), models/centernet.json, converted without TensorFlow. "
            "Input images: 1xHxWx3 RGB float 0..255, H and W multiples of 32 (upstream: a "
            "plain resize to 512x512). Outputs keypoints: 1x80x(H/4)x(W/4) sigmoid heatmap "
            "(stride 4); wh: 1x4x(H/4)x(W/4) distances left, top, right, bottom from the "
            "cell's centre (4 * x, 4 * y) in input pixels."
        ),
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(
        model,
        {
            "source": f"{NPM_PACKAGE}@{NPM_VERSION} models/centernet.json",
            "source_integrity": NPM_INTEGRITY,
            "converter_version": CONVERTER_VERSION,
            "licence": "MIT (the npm package); upstream training repository states none",
        },
    )
    onnx.checker.check_model(model, full_check=True)
    return model


# --- the generated file ---------------------------------------------------------------------


def is_valid(path: Path) -> bool:
    """Whether ``path`` is a model this converter version made from the pinned package."""
    if not path.is_file():
        return False
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # a truncated file raises protobuf's DecodeError, among others
        log.warning("%s is not a valid ONNX model (%s); it will be rebuilt", path, exc)
        return False
    props = {prop.key: prop.value for prop in model.metadata_props}
    outputs = [output.name for output in model.graph.output]
    return (
        props.get("converter_version") == CONVERTER_VERSION
        and props.get("source_integrity") == NPM_INTEGRITY
        and outputs == [HEATMAP_OUTPUT, BOXES_OUTPUT]
    )


def build(out: Path | None = None, cache: Path | None = None, *, force: bool = False) -> Path:
    """Make the ONNX model at ``out`` (default ``models/centernet.onnx``) unless it is valid.

    Fetches the pinned npm package into ``cache`` (default ``.local/centernet``) when needed.
    The file is written whole or not at all.
    """
    out = (out or default_output()).resolve()
    if not force and is_valid(out):
        log.info("%s is up to date", out)
        return out
    json_path, bin_path = fetch_package(cache)
    model = convert(json_path, bin_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(model.SerializeToString())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes it private; the model is not a secret
        os.replace(temp, out)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    log.info("wrote %s", out)
    return out


def main(argv: Iterable[str] | None = None) -> int:
    """The command line: build the model, print its path; 1 with the reason when it fails."""
    parser = argparse.ArgumentParser(
        prog=BUILD_COMMAND,
        description=(
            f"Fetch {NPM_PACKAGE}@{NPM_VERSION} with npm (integrity checked) and convert its "
            "COCO CenterNet into ONNX. Does nothing when the output is already valid."
        ),
    )
    parser.add_argument("--out", type=Path, default=None, help="default: models/centernet.onnx")
    parser.add_argument("--cache", type=Path, default=None, help="default: .local/centernet")
    parser.add_argument("--force", action="store_true", help="rebuild even if the file is valid")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        path = build(args.out, args.cache, force=args.force)
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
