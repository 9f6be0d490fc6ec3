#!/usr/bin/python3
"""Runs the reference's process_file on each file on its own (no cross-file duplicate handling), default options.

  reference_per_file.py REFERENCE_DIR OUT.npz FILE...

Writes OUT.npz with `tensors` [N,3,256,256] float32 (every handled frame, files in the order given) and prints one
JSON line per file: {file, status, reason, frames: [{sop, frame, z}], frame_excluded: [[frame, reason]]}.
"""
import json
import math
import sys
import warnings

import numpy as np

sys.path.insert(0, sys.argv[1])
import preprocess  # noqa: E402

windows = preprocess.parse_windows(preprocess.DEFAULT_WINDOWS)
axial_min_cos = math.cos(math.radians(45.0))
tensors = []
for path in sys.argv[3:]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = preprocess.process_file(path, windows, 256, False, axial_min_cos, True)
    frames = []
    for fr in r.get("frames", []):
        tensors.append(fr["tensor"])
        frames.append(dict(sop=fr["sop"], frame=fr["frame"], z=fr["z"]))
    print(json.dumps(dict(file=path, status=r["status"], reason=r.get("reason"), frames=frames,
                          frame_excluded=[[f, reason] for f, reason in r.get("frame_excluded", [])])))
np.savez(sys.argv[2], tensors=np.stack(tensors) if tensors else np.zeros((0, 3, 256, 256), np.float32))
