"""Fetch ``@vladmandic/human`` from npm and convert its COCO CenterNet into ONNX.

The package ships ``models/centernet.json`` (a TFJS graph model: ``modelTopology.node`` lists
TensorFlow ops, ``weightsManifest`` the weights) and ``models/centernet.bin`` (the weights one
after another; float32 weights stored as float16, int32 ones as they are). This module maps
the graph up to its two heads, ``tower_0/keypoints`` (80-channel sigmoid heatmap, stride 4)
and ``tower_0/wh`` (distances left, top, right, bottom in input pixels), onto ONNX with numpy
and the ``onnx`` helpers. The graph's own decoding (TopK, Gather) is left out: it is done in
numpy by :mod:`analytics_pipeline.centernet.detector`.

Layout: the ONNX input is NHWC like the TFJS one (``images``, 1x512x512x3, RGB 0..255); one
Transpose makes it NCHW and everything after stays NCHW, so the outputs are
``keypoints`` 1x80x128x128 and ``wh`` 1x4x128x128. TensorFlow's ``SAME`` padding puts the odd
pixel at the end (bottom/right); it becomes explicit ONNX pads computed from the known shapes.

Command line (idempotent: an existing valid model is kept)::

    python -m analytics_pipeline.centernet.convert [--out models/centernet.onnx] [--force]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from analytics_pipeline.centernet import (
    BOXES_OUTPUT,
    BUILD_COMMAND,
    HEATMAP_OUTPUT,
    INPUT_NAME,
    INPUT_SIZE,
)
from analytics_pipeline.errors import PipelineError
from analytics_pipeline.paths import local_dir, project_root

log = logging.getLogger(__name__)

NPM_PACKAGE = "@vladmandic/human"
NPM_VERSION = "3.3.6"
#: The registry's ``dist.integrity`` of the pinned tarball (checked before anything is read).
NPM_INTEGRITY = (
    "sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+"
    "teCv6A=="
)
#: The registry's ``dist.shasum`` (sha1) of the same tarball, for reference.
NPM_SHASUM = "74397dcda15109f52db36de098de823b8497ddc5"
TARBALL_NAME = f"vladmandic-human-{NPM_VERSION}.tgz"
#: The two files taken from the tarball, with their sha256 (checked on every use).
MODEL_MEMBERS = {
    "package/models/centernet.json": (
        "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05"
    ),
    "package/models/centernet.bin": (
        "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef"
    ),
}

#: Bumped whenever the conversion changes, so an older generated file is rebuilt.
CONVERTER_VERSION = "1"
OPSET = 13
IR_VERSION = 7
TF_HEADS = {"tower_0/keypoints": HEATMAP_OUTPUT, "tower_0/wh": BOXES_OUTPUT}
NPM_TIMEOUT_S = 600

# NHWC axis -> NCHW axis, for axis attributes and reduction indices.
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


class ConversionError(PipelineError):
    """The TFJS model could not be fetched or converted; the message says why."""


def default_output() -> Path:
    """Where set-up writes the model: ``models/centernet.onnx`` under the project root."""
    return project_root() / "models" / "centernet.onnx"


def default_cache() -> Path:
    """Where the npm tarball and the extracted TFJS files are kept: ``.local/centernet``."""
    return local_dir() / "centernet"


# --- fetching -------------------------------------------------------------------------------


def integrity_of(path: Path) -> str:
    """The npm ``integrity`` string (``sha512-`` and base64) of a file."""
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def _npm_error(stdout: str, stderr: str) -> str:
    """The gist of a failed ``npm pack --json``: its JSON error summary, else its first lines."""
    try:
        error = json.loads(stdout).get("error", {})
        return f"{error.get('code', '')} {error['summary']}".strip()
    except (ValueError, AttributeError, KeyError, TypeError):
        pass
    lines = [
        line.removeprefix("npm error").strip()
        for line in stderr.splitlines()
        if line.startswith("npm error") and not line.strip().startswith("npm error     at ")
    ]
    return " / ".join(line for line in lines[:4] if line) or stderr.strip()[-300:]


def _npm_pack(dest: Path) -> Path:
    """Run ``npm pack`` for the pinned version into ``dest``; return the tarball."""
    npm = shutil.which("npm")
    if npm is None:
        raise ConversionError(
            f"npm is needed to fetch {NPM_PACKAGE}@{NPM_VERSION} (the CenterNet model) from the "
            "npm registry: install Node.js and npm (Debian: apt-get install npm) and run "
            f"{BUILD_COMMAND} again"
        )
    with tempfile.TemporaryDirectory(dir=dest, prefix=".npm-pack-") as scratch:
        try:
            packed = subprocess.run(
                [
                    npm,
                    "pack",
                    f"{NPM_PACKAGE}@{NPM_VERSION}",
                    "--pack-destination",
                    scratch,
                    "--ignore-scripts",
                    "--json",
                ],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"npm pack {NPM_PACKAGE}@{NPM_VERSION} took more than {NPM_TIMEOUT_S} s: "
                "is the npm registry reachable?"
            ) from exc
        tarballs = list(Path(scratch).glob("*.tgz"))
        if packed.returncode != 0 or len(tarballs) != 1:
            detail = _npm_error(packed.stdout, packed.stderr)
            raise ConversionError(
                f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed (exit {packed.returncode}); the "
                f"npm registry must be reachable to make the CenterNet model: {detail}"
            )
        target = dest / TARBALL_NAME
        os.replace(tarballs[0], target)
    return target


def fetch_package(dest: Path | None = None) -> tuple[Path, Path]:
    """The pinned package's ``centernet.json`` and ``centernet.bin``, fetched once into ``dest``.

    The tarball comes from ``npm pack`` (the npm registry, no other host), is kept in ``dest``
    (default ``.local/centernet``) and must match :data:`NPM_INTEGRITY`; only the two model
    files are extracted from it, and they must match their pinned sha256 (files already
    extracted and matching are used as they are).
    """
    dest = (dest or default_cache()).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    extracted = dest / f"human-{NPM_VERSION}"
    paths = {extracted / Path(member).name: digest for member, digest in MODEL_MEMBERS.items()}
    if all(_sha256(path) == digest for path, digest in paths.items()):
        json_path, bin_path = paths
        return json_path, bin_path
    tarball = dest / TARBALL_NAME
    if not (tarball.is_file() and integrity_of(tarball) == NPM_INTEGRITY):
        log.info("fetching %s@%s with npm pack", NPM_PACKAGE, NPM_VERSION)
        tarball = _npm_pack(dest)
        found = integrity_of(tarball)
        if found != NPM_INTEGRITY:
            tarball.unlink()
            raise ConversionError(
                f"{NPM_PACKAGE}@{NPM_VERSION} from npm has integrity {found}, expected "
                f"{NPM_INTEGRITY}: refusing to use it"
            )
    extracted.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member_name, path in zip(MODEL_MEMBERS, paths, strict=True):
            try:
                member = archive.getmember(member_name)
            except KeyError as exc:
                raise ConversionError(f"{tarball} has no {member_name}") from exc
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise ConversionError(f"{member_name} in {tarball} is not a regular file")
            temp = path.with_name(f".{path.name}.part")
            with source, temp.open("wb") as out:
                shutil.copyfileobj(source, out)
            if _sha256(temp) != paths[path]:
                temp.unlink()
                raise ConversionError(f"{member_name} in {tarball} is not the pinned file")
            os.replace(temp, path)
    json_path, bin_path = paths
    return json_path, bin_path


def _sha256(path: Path) -> str | None:
    """The hex sha256 of a file, or None when there is no such file."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- reading the TFJS model -----------------------------------------------------------------

_STORED_DTYPES = {
    "float16": np.float16,
    "float32": np.float32,
    "int32": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
}


def load_tfjs(json_path: Path, bin_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The graph's nodes and its weights (name -> numpy array, float16 widened to float32)."""
    model = json.loads(json_path.read_text(encoding="utf-8"))
    if model.get("format") != "graph-model":
        raise ConversionError(f"{json_path} is not a TFJS graph model")
    data = bin_path.read_bytes()
    weights: dict[str, np.ndarray] = {}
    offset = 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            shape = [int(dim) for dim in spec["shape"]]
            count = math.prod(shape)
            quantization = spec.get("quantization") or {}
            stored = quantization.get("dtype", spec["dtype"])
            if stored not in _STORED_DTYPES or set(quantization) - {"dtype", "original_dtype"}:
                raise ConversionError(f"weight {spec['name']}: unsupported storage {quantization}")
            array = np.frombuffer(data, _STORED_DTYPES[stored], count, offset).reshape(shape)
            offset += array.nbytes
            if spec["dtype"] == "float32":
                array = array.astype(np.float32)
            weights[spec["name"]] = array
    if offset != len(data):
        raise ConversionError(f"{bin_path}: {len(data)} bytes, the manifest accounts for {offset}")
    return model["modelTopology"]["node"], weights


# --- the graph conversion -------------------------------------------------------------------


def _attr_ints(node: dict[str, Any], name: str) -> list[int]:
    return [int(value) for value in node.get("attr", {}).get(name, {}).get("list", {}).get("i", [])]


def _attr_str(node: dict[str, Any], name: str, default: str = "") -> str:
    value = node.get("attr", {}).get(name, {}).get("s")
    return base64.b64decode(value).decode("ascii") if value is not None else default


def _attr_strs(node: dict[str, Any], name: str) -> list[str]:
    values = node.get("attr", {}).get(name, {}).get("list", {}).get("s", [])
    return [base64.b64decode(value).decode("ascii") for value in values]


def _attr_bool(node: dict[str, Any], name: str) -> bool:
    return bool(node.get("attr", {}).get(name, {}).get("b", False))


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding of one axis: (before, after), the odd pixel after."""
    out = math.ceil(size / stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class _Tensor:
    """A converted value: its ONNX name and NCHW shape."""

    name: str
    shape: tuple[int, ...]


class _Converter:
    """Walks the TF graph back from the heads and emits the equivalent NCHW ONNX nodes."""

    def __init__(self, nodes: Sequence[dict[str, Any]], weights: dict[str, np.ndarray]) -> None:
        self.tf_nodes = {node["name"]: node for node in nodes}
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.done: dict[str, _Tensor] = {}
        self.used_names: set[str] = set()

    # helpers

    def _unique(self, name: str) -> str:
        candidate, index = name, 0
        while candidate in self.used_names:
            index += 1
            candidate = f"{name}_{index}"
        self.used_names.add(candidate)
        return candidate

    def _initializer(self, name: str, value: np.ndarray) -> str:
        unique = self._unique(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), unique))
        return unique

    def _emit(self, op: str, inputs: Sequence[str], name: str, **attrs: Any) -> str:
        output = self._unique(name)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=output, **attrs))
        return output

    def _const(self, name: str) -> np.ndarray | None:
        """The value of a Const node (through Identity chains), else None."""
        name = name.split(":")[0].lstrip("^")
        node = self.tf_nodes.get(name)
        if node is None:
            raise ConversionError(f"the graph has no node {name}")
        while node["op"] == "Identity":
            node = self.tf_nodes[node["input"][0].split(":")[0]]
        if node["op"] != "Const":
            return None
        if node["name"] not in self.weights:
            raise ConversionError(f"constant {node['name']} has no weights in the manifest")
        return self.weights[node["name"]]

    def _data_inputs(self, node: dict[str, Any]) -> list[str]:
        return [name for name in node.get("input", []) if not name.startswith("^")]

    # walking

    def tensor(self, tf_name: str) -> _Tensor:
        """The ONNX value of a TF node's (only) output, converting what it depends on first."""
        if ":" in tf_name and not tf_name.endswith(":0"):
            raise ConversionError(f"{tf_name}: only first outputs are supported")
        tf_name = tf_name.split(":")[0]
        stack = [tf_name]
        while stack:
            name = stack[-1]
            if name in self.done:
                stack.pop()
                continue
            node = self.tf_nodes.get(name)
            if node is None:
                raise ConversionError(f"the graph has no node {name}")
            if node["op"] == "Const":
                raise ConversionError(f"{name}: a constant where a computed value is expected")
            pending = [
                dep.split(":")[0]
                for dep in self._data_inputs(node)
                if dep.split(":")[0] not in self.done and self._const(dep) is None
            ]
            if pending:
                stack.extend(pending)
                continue
            self.done[name] = self._convert(node)
            stack.pop()
        return self.done[tf_name]

    def _convert(self, node: dict[str, Any]) -> _Tensor:
        op = node["op"]
        handler = getattr(self, f"_op_{op.lstrip('_')}", None)
        if handler is None:
            raise ConversionError(f"{node['name']}: TF op {op} is not supported by the converter")
        return handler(node)

    # ops

    def _op_Placeholder(self, node: dict[str, Any]) -> _Tensor:
        dims = node["attr"]["shape"]["shape"]["dim"]
        shape = tuple(int(dim["size"]) for dim in dims)
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or min(shape) < 1:
            raise ConversionError(f"input {node['name']}: expected 1xHxWx3, found {shape}")
        self.used_names.add(INPUT_NAME)
        self.inputs.append(helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, shape))
        name = self._emit("Transpose", [INPUT_NAME], "images_nchw", perm=[0, 3, 1, 2])
        return _Tensor(name, (shape[0], shape[3], shape[1], shape[2]))

    def _op_Identity(self, node: dict[str, Any]) -> _Tensor:
        return self.tensor(self._data_inputs(node)[0])

    def _conv(self, node: dict[str, Any], depthwise: bool) -> _Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        kernel = self._const(inputs[1])
        if kernel is None or kernel.ndim != 4:
            raise ConversionError(f"{node['name']}: the filter must be a 4-D constant")
        if _attr_str(node, "data_format", "NHWC") != "NHWC":
            raise ConversionError(f"{node['name']}: only NHWC convolutions are supported")
        strides = _attr_ints(node, "strides") or [1, 1, 1, 1]
        dilations = _attr_ints(node, "dilations") or [1, 1, 1, 1]
        if strides[0] != 1 or strides[3] != 1 or dilations[0] != 1 or dilations[3] != 1:
            raise ConversionError(f"{node['name']}: strides/dilations on N or C")
        height, width, channels_in = kernel.shape[0], kernel.shape[1], kernel.shape[2]
        if channels_in != source.shape[1]:
            raise ConversionError(
                f"{node['name']}: filter wants {channels_in} channels, input has {source.shape[1]}"
            )
        if depthwise:
            # TF: H x W x C x multiplier, output channel c * multiplier + m.
            # ONNX: (C * multiplier) x 1 x H x W with group = C.
            weight = kernel.reshape(height, width, -1).transpose(2, 0, 1)[:, None, :, :]
            group = channels_in
        else:
            weight = kernel.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            group = 1
        padding = _attr_str(node, "padding", "VALID")
        size = source.shape[2:]
        if padding == "SAME":
            top, bottom = same_pads(size[0], height, strides[1], dilations[1])
            left, right = same_pads(size[1], width, strides[2], dilations[2])
        elif padding == "VALID":
            top = bottom = left = right = 0
        elif padding == "EXPLICIT":
            explicit = _attr_ints(node, "explicit_paddings")
            top, bottom, left, right = explicit[2:6]
        else:
            raise ConversionError(f"{node['name']}: padding {padding!r} is not supported")
        out_h = (size[0] + top + bottom - ((height - 1) * dilations[1] + 1)) // strides[1] + 1
        out_w = (size[1] + left + right - ((width - 1) * dilations[2] + 1)) // strides[2] + 1
        conv_inputs = [
            source.name,
            self._initializer(f"{node['name']}/weight", weight.astype(np.float32)),
        ]
        fused = _attr_strs(node, "fused_ops")
        if node["op"].startswith("Fused") or node["op"].startswith("_Fused"):
            if not fused or fused[0] != "BiasAdd":
                raise ConversionError(f"{node['name']}: fused ops {fused} are not supported")
            if int(node["attr"].get("num_args", {}).get("i", "1")) != 1 or len(inputs) != 3:
                raise ConversionError(f"{node['name']}: a fused BiasAdd takes one argument")
            bias = self._const(inputs[2])
            if bias is None or bias.shape != (weight.shape[0],):
                raise ConversionError(f"{node['name']}: the bias must be a per-channel constant")
            conv_inputs.append(self._initializer(f"{node['name']}/bias", bias.astype(np.float32)))
            activations = fused[1:]
        else:
            activations = []
        suffix = "/conv" if activations else ""
        output = self._emit(
            "Conv",
            conv_inputs,
            node["name"] + suffix,
            kernel_shape=[height, width],
            strides=strides[1:3],
            dilations=dilations[1:3],
            pads=[top, left, bottom, right],
            group=group,
        )
        for activation in activations:
            output = self._activation(activation, output, node["name"])
        return _Tensor(output, (source.shape[0], weight.shape[0], out_h, out_w))

    def _activation(self, kind: str, source: str, name: str) -> str:
        if kind == "Relu":
            return self._emit("Relu", [source], name)
        if kind == "Relu6":
            return self._relu6(source, name)
        if kind == "Sigmoid":
            return self._emit("Sigmoid", [source], name)
        raise ConversionError(f"{name}: fused activation {kind} is not supported")

    def _relu6(self, source: str, name: str) -> str:
        low = self._initializer(f"{name}/min", np.array(0.0, np.float32))
        high = self._initializer(f"{name}/max", np.array(6.0, np.float32))
        return self._emit("Clip", [source, low, high], name)

    def _op_FusedConv2D(self, node: dict[str, Any]) -> _Tensor:
        return self._conv(node, depthwise=False)

    def _op_Conv2D(self, node: dict[str, Any]) -> _Tensor:
        return self._conv(node, depthwise=False)

    def _op_FusedDepthwiseConv2dNative(self, node: dict[str, Any]) -> _Tensor:
        return self._conv(node, depthwise=True)

    def _op_DepthwiseConv2dNative(self, node: dict[str, Any]) -> _Tensor:
        return self._conv(node, depthwise=True)

    def _unary(self, node: dict[str, Any], op: str) -> _Tensor:
        source = self.tensor(self._data_inputs(node)[0])
        if op == "Relu6":
            return _Tensor(self._relu6(source.name, node["name"]), source.shape)
        return _Tensor(self._emit(op, [source.name], node["name"]), source.shape)

    def _op_Relu(self, node: dict[str, Any]) -> _Tensor:
        return self._unary(node, "Relu")

    def _op_Relu6(self, node: dict[str, Any]) -> _Tensor:
        return self._unary(node, "Relu6")

    def _op_Sigmoid(self, node: dict[str, Any]) -> _Tensor:
        return self._unary(node, "Sigmoid")

    def _const_operand(self, value: np.ndarray, name: str, channels: int) -> _Tensor:
        """An NHWC constant operand as an NCHW-broadcastable initializer."""
        value = value.astype(np.float32)
        if value.size == 1:
            array = value.reshape(())
        elif value.ndim == 1 and value.shape[0] == channels:
            array = value.reshape(channels, 1, 1)
        elif value.ndim == 4:
            array = value.transpose(0, 3, 1, 2)
        else:
            raise ConversionError(f"{name}: constant operand of shape {value.shape}")
        return _Tensor(self._initializer(name, array), tuple(array.shape))

    def _binary(self, node: dict[str, Any], op: str) -> _Tensor:
        inputs = self._data_inputs(node)
        values = [self._const(name) for name in inputs]
        if all(value is not None for value in values):
            raise ConversionError(f"{node['name']}: constant folding is not supported")
        channels = next(
            self.tensor(name).shape[1]
            for name, value in zip(inputs, values, strict=True)
            if value is None
        )
        operands = [
            self.tensor(name)
            if value is None
            else self._const_operand(value, f"{node['name']}/{index}", channels)
            for index, (name, value) in enumerate(zip(inputs, values, strict=True))
        ]
        shape = tuple(np.broadcast_shapes(*(operand.shape for operand in operands)))
        output = self._emit(op, [operand.name for operand in operands], node["name"])
        return _Tensor(output, shape)

    def _op_Add(self, node: dict[str, Any]) -> _Tensor:
        return self._binary(node, "Add")

    def _op_AddV2(self, node: dict[str, Any]) -> _Tensor:
        return self._binary(node, "Add")

    def _op_Mul(self, node: dict[str, Any]) -> _Tensor:
        return self._binary(node, "Mul")

    def _op_Sub(self, node: dict[str, Any]) -> _Tensor:
        return self._binary(node, "Sub")

    def _op_Mean(self, node: dict[str, Any]) -> _Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        indices = self._const(inputs[1])
        if indices is None:
            raise ConversionError(f"{node['name']}: the reduction indices must be constant")
        axes = sorted(_NHWC_TO_NCHW_AXIS[int(axis) % 4] for axis in np.atleast_1d(indices))
        keep = _attr_bool(node, "keep_dims")
        if axes == [2, 3] and keep:
            output = self._emit("GlobalAveragePool", [source.name], node["name"])
        else:
            output = self._emit(
                "ReduceMean", [source.name], node["name"], axes=axes, keepdims=int(keep)
            )
        shape = tuple(
            1 if axis in axes else dim
            for axis, dim in enumerate(source.shape)
            if keep or axis not in axes
        )
        return _Tensor(output, shape)

    def _op_ResizeBilinear(self, node: dict[str, Any]) -> _Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        size = self._const(inputs[1])
        if size is None or size.shape != (2,):
            raise ConversionError(f"{node['name']}: the output size must be a constant")
        if _attr_bool(node, "align_corners"):
            mode = "align_corners"
        elif _attr_bool(node, "half_pixel_centers"):
            mode = "half_pixel"
        else:
            mode = "asymmetric"  # TF's legacy default: source = destination * in / out
        shape = (source.shape[0], source.shape[1], int(size[0]), int(size[1]))
        sizes = self._initializer(f"{node['name']}/sizes", np.array(shape, np.int64))
        output = self._emit(
            "Resize",
            [source.name, "", "", sizes],
            node["name"],
            mode="linear",
            coordinate_transformation_mode=mode,
        )
        return _Tensor(output, shape)

    def _op_ConcatV2(self, node: dict[str, Any]) -> _Tensor:
        inputs = self._data_inputs(node)
        axis_value = self._const(inputs[-1])
        if axis_value is None:
            raise ConversionError(f"{node['name']}: the axis must be a constant")
        parts = [self.tensor(name) for name in inputs[:-1]]
        axis = _NHWC_TO_NCHW_AXIS[int(axis_value) % 4]
        shape = list(parts[0].shape)
        shape[axis] = sum(part.shape[axis] for part in parts)
        output = self._emit("Concat", [part.name for part in parts], node["name"], axis=axis)
        return _Tensor(output, tuple(shape))


def convert(json_path: Path, bin_path: Path) -> onnx.ModelProto:
    """The ONNX model of the TFJS CenterNet up to its heatmap and box heads."""
    tf_nodes, weights = load_tfjs(json_path, bin_path)
    converter = _Converter(tf_nodes, weights)
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
            "Input images: 1x512x512x3 RGB float 0..255 (plain resize). Outputs keypoints: "
            "1x80x128x128 sigmoid heatmap (stride 4); wh: 1x4x128x128 distances left, top, "
            "right, bottom from the cell's centre (4 * x, 4 * y) in input pixels."
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
