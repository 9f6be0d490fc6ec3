/**
 * The Part 10 preamble and file meta group (0002), Explicit VR Little Endian, for files the node stores or writes.
 */
/** This project's ImplementationClassUID (a fixed UUID-derived 2.25 UID; never change it). */
export const IMPLEMENTATION_CLASS_UID = '2.25.188881661830033925419300547760749181612';
/** ImplementationVersionName (SH, at most 16 characters). */
export const IMPLEMENTATION_VERSION_NAME = 'PMCT_ICH_0.1';

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** (0002,0016) Source Application Entity Title: the calling AE a received object came from. */
  sourceAeTitle?: string;
}

function element(tag: number, vr: 'OB' | 'UI' | 'SH' | 'AE' | 'UL', value: Buffer): Buffer {
  const longForm = vr === 'OB';
  const head = Buffer.alloc(longForm ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (longForm) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** UIs pad with NUL, other text VRs with a space, to even length. */
function text(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 ? value + pad : value, 'latin1');
}

export function fileMetaHeader(meta: FileMeta): Buffer {
  const group = Buffer.concat([
    element(0x00020001, 'OB', Buffer.from([0, 1])),
    element(0x00020002, 'UI', text(meta.sopClassUid, '\0')),
    element(0x00020003, 'UI', text(meta.sopInstanceUid, '\0')),
    element(0x00020010, 'UI', text(meta.transferSyntaxUid, '\0')),
    element(0x00020012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x00020013, 'SH', text(IMPLEMENTATION_VERSION_NAME, ' ')),
    ...(meta.sourceAeTitle ? [element(0x00020016, 'AE', text(meta.sourceAeTitle.trim(), ' '))] : []),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(group.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x00020000, 'UL', length), group]);
}
