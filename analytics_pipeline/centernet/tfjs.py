"""Reading a TFJS graph model: its nodes, its weights and its nodes' attributes.

``centernet.json`` lists TensorFlow ops in ``modelTopology.node`` and the weights in
``weightsManifest``; ``centernet.bin`` holds the weights one after another (float32 ones stored
as float16, int32 ones as they are). Attribute values follow TensorFlow's ``AttrValue`` in
JSON: lists under ``list``, strings base64-encoded.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from analytics_pipeline.centernet import ConversionError

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


def attr_ints(node: dict[str, Any], name: str) -> list[int]:
    """A list-of-ints attribute (strides, dilations, paddings); empty when absent."""
    return [int(value) for value in node.get("attr", {}).get(name, {}).get("list", {}).get("i", [])]


def attr_str(node: dict[str, Any], name: str, default: str = "") -> str:
    """A string attribute (padding, data_format), ``default`` when absent."""
    value = node.get("attr", {}).get(name, {}).get("s")
    return base64.b64decode(value).decode("ascii") if value is not None else default


def attr_strs(node: dict[str, Any], name: str) -> list[str]:
    """A list-of-strings attribute (a fused op's ``fused_ops``); empty when absent."""
    values = node.get("attr", {}).get(name, {}).get("list", {}).get("s", [])
    return [base64.b64decode(value).decode("ascii") for value in values]


def attr_bool(node: dict[str, Any], name: str) -> bool:
    """A boolean attribute (keep_dims, align_corners); False when absent."""
    return bool(node.get("attr", {}).get(name, {}).get("b", False))
