"""Temporary copies of the RSNA 2019 slices that a PACS accepts: the "ID_..." identifiers become valid UIDs (one
study per slice, so each is a case), the SOP class CT Image Storage, and each copy is marked as derived (ImageType
DERIVED\\SECONDARY, DerivationDescription). Pixel data
and every other attribute are untouched. Patient names can be given per file (e.g. markup, to test escaping).

usage: rsna_copies.py SRC_DIR OUT_DIR [--name FILE=NAME ...]
"""
import argparse
import os
import uuid

import warnings

import pydicom
from pydicom.uid import ExplicitVRLittleEndian


warnings.simplefilter("ignore")  # the originals' "UIDs" are invalid by design; pydicom warns on every read


def new_uid():
    return "2.25.%d" % uuid.uuid4().int


ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("out")
ap.add_argument("--name", action="append", default=[])
a = ap.parse_args()
names = dict(n.split("=", 1) for n in a.name)
os.makedirs(a.out, exist_ok=True)
for f in sorted(os.listdir(a.src)):
    ds = pydicom.dcmread(os.path.join(a.src, f))
    original = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = new_uid(), new_uid(), new_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.DerivationDescription = "copy of RSNA 2019 slice %s with valid UIDs for tests" % original
    ds.SeriesDescription = "RSNA %s (test copy)" % original
    if f in names:
        ds.PatientName = names[f]
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(os.path.join(a.out, f), write_like_original=False)
    print(os.path.join(a.out, f))
