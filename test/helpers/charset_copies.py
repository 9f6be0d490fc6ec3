#!/usr/bin/python3
"""Makes, for each character-set file, a re-UIDed copy of a CT slice carrying that file's PatientName (raw bytes)
and SpecificCharacterSet, and reports what pydicom decodes the original name to.

  charset_copies.py CT_SLICE OUT_DIR FILE...

Prints one JSON line per file: {file, out (null when the file has no top-level PatientName), name_hex, charset,
unicode}. New UIDs come from pydicom's generate_uid (2.25 UUID form).
"""
import json
import os
import sys

import pydicom
from pydicom.dataelem import DataElement
from pydicom.uid import generate_uid

ct_path, out_dir, files = sys.argv[1], sys.argv[2], sys.argv[3:]
for path in files:
    src = pydicom.dcmread(path)
    raw = src.get_item(0x00100010)
    if raw is None:
        print(json.dumps(dict(file=path, out=None)))
        continue
    name_bytes = raw.value if isinstance(raw.value, bytes) else src.PatientName.original_string
    cs = src.SpecificCharacterSet
    charset = cs if isinstance(cs, str) else "\\".join(cs)
    ct = pydicom.dcmread(ct_path)
    ct.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
    ct[0x00100010] = DataElement(0x00100010, "PN", name_bytes)  # bytes: written exactly as they are
    ct.StudyInstanceUID, ct.SeriesInstanceUID = generate_uid(prefix=None), generate_uid(prefix=None)
    ct.SOPInstanceUID = generate_uid(prefix=None)
    ct.file_meta.MediaStorageSOPInstanceUID = ct.SOPInstanceUID
    out = os.path.join(out_dir, os.path.basename(path))
    ct.save_as(out)
    print(json.dumps(dict(file=path, out=out, name_hex=name_bytes.hex(), charset=charset, unicode=str(src.PatientName))))
