#!/usr/bin/python3
"""Export a method-study classifier architecture to ONNX plus a node model manifest.

  export_onnx.py --arch densenet201 --out DIR [--name NAME] [--version 1.0.0]
                 [--weights CKPT | --seed 1] [--outputs 1] [--any-index 0] [--size 256]
                 [--mean 0.485,0.456,0.406 --std 0.229,0.224,0.225] [--opset 17] [--library auto|timm|torchvision]

Writes DIR/NAME.onnx (input 'input' [batch,3,S,S] float32, output 'logits' [batch,OUTPUTS], dynamic batch axis)
and DIR/NAME.model.json (the node's model manifest: file, SHA-256, input spec, output spec, parameter count,
provenance). The architecture comes from timm when it is importable (the method study used timm), otherwise
from torchvision; it is always built without pretrained weights, so nothing is downloaded. Its last linear
layer is replaced by one with OUTPUTS outputs (1 = a single "any hemorrhage" logit). --weights loads a
fine-tuned checkpoint (a state_dict, or a dict holding one under 'state_dict' or 'model'; a DataParallel
'module.' prefix is removed); without it the weights are random from --seed, which makes the export
reproducible for tests. --mean/--std go into the manifest: the node normalises, the graph does not.

Run with /usr/bin/python3 (Debian python3-torch, python3-torchvision, python3-onnx).
"""
import argparse
import hashlib
import json
import os
import sys

import torch
import torch.nn as nn

DEFAULT_WINDOWS = [
    dict(name="brain", center=40, width=80),
    dict(name="subdural", center=80, width=200),
    dict(name="bone", center=600, width=2800),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pick_library(choice):
    if choice in ("auto", "timm"):
        try:
            import timm  # noqa: F401
            return "timm"
        except ImportError:
            if choice == "timm":
                raise SystemExit("--library timm: timm is not importable")
    return "torchvision"


def replace_last_linear(model, outputs):
    """Swaps the classification head for one with `outputs` logits. The head is the last nn.Linear in module
    order, which holds for the study's families (densenet .classifier, resnet/resnext .fc, efficientnet and
    mobilenet .classifier[-1], vgg .classifier[6], vit .heads.head)."""
    name, last = None, None
    for n, m in model.named_modules():
        if isinstance(m, nn.Linear):
            name, last = n, m
    if last is None:
        raise SystemExit("no linear classification layer found in this architecture")
    parent = model
    *path, leaf = name.split(".")
    for p in path:
        parent = getattr(parent, p)
    new = nn.Linear(last.in_features, outputs)
    if leaf.isdigit():
        parent[int(leaf)] = new
    else:
        setattr(parent, leaf, new)
    return name


def build(arch, library, outputs):
    if library == "timm":
        import timm
        return timm.create_model(arch, pretrained=False, num_classes=outputs, in_chans=3), "timm " + timm.__version__
    import torchvision
    ctor = getattr(torchvision.models, arch, None)
    if ctor is None or not callable(ctor):
        raise SystemExit("torchvision has no architecture %r (and timm is not importable)" % arch)
    m = ctor(weights=None)
    replace_last_linear(m, outputs)
    return m, "torchvision " + torchvision.__version__


def load_checkpoint(model, path):
    ck = torch.load(path, map_location="cpu")
    if isinstance(ck, dict):
        for key in ("state_dict", "model"):
            if key in ck and isinstance(ck[key], dict):
                ck = ck[key]
                break
    ck = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in ck.items()}
    model.load_state_dict(ck, strict=True)


def floats(text, what):
    if text is None:
        return None
    v = [float(x) for x in text.split(",")]
    if len(v) != 3:
        raise SystemExit("%s needs 3 comma-separated values (one per window channel)" % what)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, help="e.g. densenet201, efficientnet_b2, resnext101_32x8d")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--name", help="model name (default: ARCH)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--weights", help="fine-tuned checkpoint (.pt/.pth)")
    ap.add_argument("--seed", type=int, default=0, help="seed for random weights (ignored with --weights)")
    ap.add_argument("--outputs", type=int, default=1, help="number of logits of the head")
    ap.add_argument("--any-index", type=int, default=0, help='which logit is "any hemorrhage"')
    ap.add_argument("--size", type=int, default=256, help="input height = width (224 for some models)")
    ap.add_argument("--mean", help="per-channel normalisation mean, e.g. 0.485,0.456,0.406")
    ap.add_argument("--std", help="per-channel normalisation std, e.g. 0.229,0.224,0.225")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--library", choices=("auto", "timm", "torchvision"), default="auto")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if not 0 <= a.any_index < a.outputs:
        raise SystemExit("--any-index must be in [0, --outputs)")
    mean, std = floats(a.mean, "--mean"), floats(a.std, "--std")
    if (mean is None) != (std is None):
        raise SystemExit("--mean and --std go together")

    torch.set_num_threads(a.threads)
    name = a.name or a.arch
    library = pick_library(a.library)
    torch.manual_seed(a.seed)
    model, lib_version = build(a.arch, library, a.outputs)
    if a.weights:
        load_checkpoint(model, a.weights)
        weights = dict(source=os.path.abspath(a.weights), sha256=sha256(a.weights))
    else:
        weights = dict(source="random initialisation (not trained)", seed=a.seed)
    model.eval()

    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, name + ".onnx")
    torch.onnx.export(model, torch.zeros(1, 3, a.size, a.size), onnx_path, opset_version=a.opset,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    manifest = dict(
        kind="model", name=name, version=a.version,
        description="%s (%s) with a %d-logit head, exported by tools/export_onnx.py" % (a.arch, library, a.outputs),
        file=os.path.basename(onnx_path), sha256=sha256(onnx_path),
        input=dict(name="input", size=[a.size, a.size], windows=DEFAULT_WINDOWS,
                   normalization=dict(mean=mean, std=std) if mean else None),
        output=dict(name="logits", kind="logit", index=a.any_index),
        parameters=int(sum(p.numel() for p in model.parameters())),
        baseline=False,
        provenance=dict(architecture=a.arch, library=lib_version, torch=torch.__version__, opset=a.opset,
                        weights=weights),
    )
    manifest_path = os.path.join(a.out, name + ".model.json")
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("%s: %d parameters, sha256 %s -> %s, %s" % (name, manifest["parameters"], manifest["sha256"][:16],
                                                      onnx_path, manifest_path))


if __name__ == "__main__":
    sys.exit(main())
