"""The CenterNet conversion: fetching from npm, the generated file, and its outputs checked
against TensorFlow.js itself.

Reference: the TFJS graph model run by ``@tensorflow/tfjs-core`` 4.22.0 with its CPU backend in
Node.js on the same 512x512 input (``bus.jpg``, ``cv2.resize`` INTER_LINEAR, RGB). The heatmap
and box distances at its peaks are written below; the converted model must give them to float
precision (measured: heatmap within 1e-6, distances within 0.003 px).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import onnx
import pytest

from analytics_pipeline.centernet import ConversionError
from analytics_pipeline.centernet.convert import build, default_output, is_valid
from analytics_pipeline.centernet.detector import CenterNetDetector, find_peaks
from analytics_pipeline.centernet.fetch import NPM_INTEGRITY, fetch_package, integrity_of
from analytics_pipeline.centernet.onnx_graph import same_pads


def test_same_padding_puts_the_odd_pixel_after() -> None:
    assert same_pads(512, 3, 2) == (0, 1)  # TF: out 256, total 1, all of it bottom/right
    assert same_pads(64, 5, 2) == (1, 2)
    assert same_pads(128, 5, 1) == (2, 2)
    assert same_pads(128, 1, 1) == (0, 0)
    assert same_pads(7, 3, 2) == (1, 1)


def test_integrity_is_npm_s_sha512_in_base64(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert integrity_of(empty) == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def _fake_npm(folder: Path, script: str) -> None:
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)


def test_a_tarball_with_the_wrong_integrity_is_refused(tmp_path, monkeypatch) -> None:
    # The fake npm writes a bogus tarball into --pack-destination (the argument after it).
    _fake_npm(
        tmp_path / "bin",
        'while [ "$1" != "--pack-destination" ]; do shift; done\n'
        'echo bogus > "$2/vladmandic-human-3.3.6.tgz"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConversionError, match="integrity"):
        fetch_package(tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.tgz"))  # the bad tarball is not kept


def test_an_unreachable_registry_is_a_clear_error(tmp_path, monkeypatch) -> None:
    _fake_npm(tmp_path / "bin", 'echo "npm error code ENOTFOUND registry.npmjs.org" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConversionError, match=r"npm registry must be reachable.*ENOTFOUND"):
        fetch_package(tmp_path / "cache")


def test_the_model_is_made_once_and_is_valid(model_path: Path) -> None:
    assert model_path == default_output()
    assert is_valid(model_path)
    model = onnx.load(str(model_path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["source_integrity"] == NPM_INTEGRITY
    assert [o.name for o in model.graph.output] == ["keypoints", "wh"]
    ops = {node.op_type for node in model.graph.node}
    assert not ops & {"TopK", "Gather", "MaxPool"}  # decoding is numpy's, not the graph's
    assert sum(node.op_type == "Transpose" for node in model.graph.node) == 1
    # Any input whose sides are multiples of 32: free height and width, resizes by scale.
    sides = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert sides == [1, "height", "width", 3]
    assert all(len(node.input) == 3 for node in model.graph.node if node.op_type == "Resize")
    before = model_path.stat().st_mtime_ns
    assert build() == model_path  # idempotent: nothing rewritten
    assert model_path.stat().st_mtime_ns == before


def test_a_damaged_model_file_is_rebuilt(model_path: Path, tmp_path) -> None:
    damaged = tmp_path / "centernet.onnx"
    damaged.write_bytes(model_path.read_bytes()[:1000])
    assert not is_valid(damaged)
    assert build(damaged) == damaged  # from the cached, integrity-checked tarball
    assert is_valid(damaged)


# TFJS's own outputs on bus.jpg at the heatmap peaks >= 0.35: (class, y, x) cell, heatmap
# value, distances (left, top, right, bottom) in 512-space.
TFJS_BUS_PEAKS = [
    (0, 76, 21, 0.7652, (55.45, 116.14, 55.57, 123.81)),
    (0, 74, 44, 0.5937, (35.00, 103.69, 38.57, 114.30)),
    (0, 74, 118, 0.5760, (38.97, 120.46, 39.98, 121.33)),
    (5, 57, 63, 0.4834, (239.84, 120.36, 247.49, 129.59)),
    (5, 62, 63, 0.4033, (235.02, 141.81, 249.48, 124.32)),
    (16, 85, 5, 0.3949, (20.82, 74.86, 24.58, 71.28)),
]


def test_the_conversion_matches_tensorflow_js(detector: CenterNetDetector, bus) -> None:
    heat, distances = detector.infer(bus)
    assert heat.shape == (80, 128, 128) and distances.shape == (4, 128, 128)
    classes, ys, xs = find_peaks(heat, 0.35)
    assert sorted(zip(classes.tolist(), ys.tolist(), xs.tolist(), strict=True)) == sorted(
        (c, y, x) for c, y, x, _, _ in TFJS_BUS_PEAKS
    )
    for class_id, y, x, value, sides in TFJS_BUS_PEAKS:
        assert heat[class_id, y, x] == pytest.approx(value, abs=2e-3)
        assert distances[:, y, x] == pytest.approx(sides, abs=0.25)
