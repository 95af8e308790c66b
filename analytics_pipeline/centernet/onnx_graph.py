"""TensorFlow ops to ONNX nodes: the TFJS CenterNet's graph up to its heads, in NCHW.

The ONNX input is NHWC like the TFJS one; one Transpose makes it NCHW and everything after stays
NCHW. Shapes are worked out at the exported input size (512x512); every size-dependent choice
(SAME pads, resize factors) holds for any input whose sides are multiples of 32. TensorFlow's
``SAME`` padding puts the odd pixel at the end (bottom/right); it becomes explicit ONNX pads
computed from the known shapes. Supported: Placeholder, Identity, (fused) Conv2D and
DepthwiseConv2dNative with BiasAdd and Relu/Relu6/Sigmoid, Relu, Relu6, Sigmoid,
Add/AddV2/Mul/Sub, Mean, ResizeBilinear, ConcatV2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from analytics_pipeline.centernet import INPUT_NAME, ConversionError
from analytics_pipeline.centernet.tfjs import attr_bool, attr_ints, attr_str, attr_strs

# NHWC axis -> NCHW axis, for axis attributes and reduction indices.
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding of one axis: (before, after), the odd pixel after."""
    out = math.ceil(size / stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


@dataclass(frozen=True)
class Tensor:
    """A converted value: its ONNX name and NCHW shape."""

    name: str
    shape: tuple[int, ...]


class GraphConverter:
    """Walks the TF graph back from the heads and emits the equivalent NCHW ONNX nodes."""

    def __init__(self, nodes: Sequence[dict[str, Any]], weights: dict[str, np.ndarray]) -> None:
        self.tf_nodes = {node["name"]: node for node in nodes}
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.done: dict[str, Tensor] = {}
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

    def tensor(self, tf_name: str) -> Tensor:
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

    def _convert(self, node: dict[str, Any]) -> Tensor:
        op = node["op"]
        handler = getattr(self, f"_op_{op.lstrip('_')}", None)
        if handler is None:
            raise ConversionError(f"{node['name']}: TF op {op} is not supported by the converter")
        return handler(node)

    # ops

    def _op_Placeholder(self, node: dict[str, Any]) -> Tensor:
        dims = node["attr"]["shape"]["shape"]["dim"]
        shape = tuple(int(dim["size"]) for dim in dims)
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or min(shape) < 1:
            raise ConversionError(f"input {node['name']}: expected 1xHxWx3, found {shape}")
        self.used_names.add(INPUT_NAME)
        self.inputs.append(helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, shape))
        name = self._emit("Transpose", [INPUT_NAME], "images_nchw", perm=[0, 3, 1, 2])
        return Tensor(name, (shape[0], shape[3], shape[1], shape[2]))

    def _op_Identity(self, node: dict[str, Any]) -> Tensor:
        return self.tensor(self._data_inputs(node)[0])

    def _conv(self, node: dict[str, Any], depthwise: bool) -> Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        kernel = self._const(inputs[1])
        if kernel is None or kernel.ndim != 4:
            raise ConversionError(f"{node['name']}: the filter must be a 4-D constant")
        if attr_str(node, "data_format", "NHWC") != "NHWC":
            raise ConversionError(f"{node['name']}: only NHWC convolutions are supported")
        strides = attr_ints(node, "strides") or [1, 1, 1, 1]
        dilations = attr_ints(node, "dilations") or [1, 1, 1, 1]
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
        padding = attr_str(node, "padding", "VALID")
        size = source.shape[2:]
        if padding == "SAME":
            top, bottom = same_pads(size[0], height, strides[1], dilations[1])
            left, right = same_pads(size[1], width, strides[2], dilations[2])
        elif padding == "VALID":
            top = bottom = left = right = 0
        elif padding == "EXPLICIT":
            explicit = attr_ints(node, "explicit_paddings")
            top, bottom, left, right = explicit[2:6]
        else:
            raise ConversionError(f"{node['name']}: padding {padding!r} is not supported")
        out_h = (size[0] + top + bottom - ((height - 1) * dilations[1] + 1)) // strides[1] + 1
        out_w = (size[1] + left + right - ((width - 1) * dilations[2] + 1)) // strides[2] + 1
        conv_inputs = [
            source.name,
            self._initializer(f"{node['name']}/weight", weight.astype(np.float32)),
        ]
        fused = attr_strs(node, "fused_ops")
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
        return Tensor(output, (source.shape[0], weight.shape[0], out_h, out_w))

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

    def _op_FusedConv2D(self, node: dict[str, Any]) -> Tensor:
        return self._conv(node, depthwise=False)

    def _op_Conv2D(self, node: dict[str, Any]) -> Tensor:
        return self._conv(node, depthwise=False)

    def _op_FusedDepthwiseConv2dNative(self, node: dict[str, Any]) -> Tensor:
        return self._conv(node, depthwise=True)

    def _op_DepthwiseConv2dNative(self, node: dict[str, Any]) -> Tensor:
        return self._conv(node, depthwise=True)

    def _unary(self, node: dict[str, Any], op: str) -> Tensor:
        source = self.tensor(self._data_inputs(node)[0])
        if op == "Relu6":
            return Tensor(self._relu6(source.name, node["name"]), source.shape)
        return Tensor(self._emit(op, [source.name], node["name"]), source.shape)

    def _op_Relu(self, node: dict[str, Any]) -> Tensor:
        return self._unary(node, "Relu")

    def _op_Relu6(self, node: dict[str, Any]) -> Tensor:
        return self._unary(node, "Relu6")

    def _op_Sigmoid(self, node: dict[str, Any]) -> Tensor:
        return self._unary(node, "Sigmoid")

    def _const_operand(self, value: np.ndarray, name: str, channels: int) -> Tensor:
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
        return Tensor(self._initializer(name, array), tuple(array.shape))

    def _binary(self, node: dict[str, Any], op: str) -> Tensor:
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
        return Tensor(output, shape)

    def _op_Add(self, node: dict[str, Any]) -> Tensor:
        return self._binary(node, "Add")

    def _op_AddV2(self, node: dict[str, Any]) -> Tensor:
        return self._binary(node, "Add")

    def _op_Mul(self, node: dict[str, Any]) -> Tensor:
        return self._binary(node, "Mul")

    def _op_Sub(self, node: dict[str, Any]) -> Tensor:
        return self._binary(node, "Sub")

    def _op_Mean(self, node: dict[str, Any]) -> Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        indices = self._const(inputs[1])
        if indices is None:
            raise ConversionError(f"{node['name']}: the reduction indices must be constant")
        axes = sorted(_NHWC_TO_NCHW_AXIS[int(axis) % 4] for axis in np.atleast_1d(indices))
        keep = attr_bool(node, "keep_dims")
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
        return Tensor(output, shape)

    def _op_ResizeBilinear(self, node: dict[str, Any]) -> Tensor:
        inputs = self._data_inputs(node)
        source = self.tensor(inputs[0])
        size = self._const(inputs[1])
        if size is None or size.shape != (2,):
            raise ConversionError(f"{node['name']}: the output size must be a constant")
        if attr_bool(node, "align_corners"):
            mode = "align_corners"
        elif attr_bool(node, "half_pixel_centers"):
            mode = "half_pixel"
        else:
            mode = "asymmetric"  # TF's legacy default: source = destination * in / out
        shape = (source.shape[0], source.shape[1], int(size[0]), int(size[1]))
        # Scales, not sizes: the same graph then takes any input whose sides are multiples of
        # 32 (here every resize doubles), not only the 512x512 it was exported at.
        ratios = [1.0, 1.0, shape[2] / source.shape[2], shape[3] / source.shape[3]]
        scales = self._initializer(f"{node['name']}/scales", np.array(ratios, np.float32))
        output = self._emit(
            "Resize",
            [source.name, "", scales],
            node["name"],
            mode="linear",
            coordinate_transformation_mode=mode,
        )
        return Tensor(output, shape)

    def _op_ConcatV2(self, node: dict[str, Any]) -> Tensor:
        inputs = self._data_inputs(node)
        axis_value = self._const(inputs[-1])
        if axis_value is None:
            raise ConversionError(f"{node['name']}: the axis must be a constant")
        parts = [self.tensor(name) for name in inputs[:-1]]
        axis = _NHWC_TO_NCHW_AXIS[int(axis_value) % 4]
        shape = list(parts[0].shape)
        shape[axis] = sum(part.shape[axis] for part in parts)
        output = self._emit("Concat", [part.name for part in parts], node["name"], axis=axis)
        return Tensor(output, tuple(shape))
