"""The on-disk format of an attached file: chunked, encrypted, bound to its file, checked as it is read.

A Fernet token authenticates one whole message, and a file must be written and read without holding it in
memory, so a file is a sequence of Fernet tokens, one per 64 KiB of plaintext::

    file   = header chunk+
    header = "WBSATT" (6 bytes) | format 0x01 (1 byte) | file id (16 bytes)
    chunk  = length (4 bytes, unsigned big-endian) | token (``length`` bytes: a Fernet token, raw, not base64)
    token  = Fernet_k( file id (16 bytes) | index (8 bytes, unsigned big-endian, from 0) | last (1 byte: 0 or 1)
                       | data )
    k      = HKDF-SHA256(the case's data key, info = "wbs-attachment/1:" | file id)   (``CaseKey.file_key``)

Every chunk but the last holds exactly 65 536 bytes of data; the last holds 1 to 65 536 and is marked
``last = 1``. Each chunk is authenticated by its token's HMAC; its plaintext names its file and its place,
and the key is the file's own, so a chunk cannot be altered, reordered, repeated, dropped, moved to another
file or case, nor the file cut short or extended, without :class:`SealedFileError` at that chunk. A reader
also compares the whole file's size and SHA-256 with what was recorded when it was stored
(:func:`wbs_engine.files.open_attachment`).

The file id is random (16 bytes, 32 hex digits on disk and in ``attachment.file_id``); the person's file name
is never part of the path. Destroying the case's data key makes every chunk unreadable: deleting the key is
enough to destroy the files' content (the files themselves are then noise and may be removed at leisure).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken

MAGIC = b"WBSATT"
FORMAT = 1
#: bytes of plaintext per chunk
CHUNK = 64 * 1024
FILE_ID_BYTES = 16
HEADER = struct.Struct(f">{len(MAGIC)}sB{FILE_ID_BYTES}s")
_LENGTH = struct.Struct(">I")
_BINDING = struct.Struct(f">{FILE_ID_BYTES}sQB")
#: a raw token of a full chunk is 57 bytes of Fernet framing plus the padded ciphertext; anything much longer
#: is a damaged length, refused before it is read (so a bad length cannot make a reader allocate gigabytes)
MAX_TOKEN = CHUNK + _BINDING.size + 16 + 57 + 64


class SealedFileError(Exception):
    """The file is not what was stored: altered, cut short, extended, moved or missing (what and where).

    Its text is a diagnosis in English for the admin who restores the file (it becomes
    ``AttachmentDamaged.problem``, a parameter of that error); the person opening the file reads
    :class:`wbs_engine.files.AttachmentDamaged`'s message, which is in the catalogue."""


class Writer:
    """Writes a file's chunks to ``out`` as data arrives; :meth:`close` writes the last chunk.

    One chunk of data is held back until more arrives or the file ends, because a chunk must say whether it
    is the last. Memory stays at about two chunks whatever the file's size."""

    def __init__(self, out: BinaryIO, key: Fernet, file_id: bytes):
        if len(file_id) != FILE_ID_BYTES:
            raise ValueError("a file id is 16 bytes")
        self._out, self._key, self._id = out, key, file_id
        self._pending = bytearray()
        self._index = 0
        self._closed = False
        out.write(HEADER.pack(MAGIC, FORMAT, file_id))

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("the file is closed")
        self._pending += data
        while len(self._pending) > CHUNK:
            self._emit(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]

    def close(self) -> None:
        """Write the last chunk (the data still held back)."""
        if not self._closed:
            self._emit(bytes(self._pending), last=True)
            self._pending.clear()
            self._closed = True

    def _emit(self, data: bytes, *, last: bool) -> None:
        plain = _BINDING.pack(self._id, self._index, 1 if last else 0) + data
        token = base64.urlsafe_b64decode(self._key.encrypt(plain))
        self._out.write(_LENGTH.pack(len(token)) + token)
        self._index += 1


def read_chunks(src: BinaryIO, key: Fernet, file_id: bytes) -> Iterator[bytes]:
    """The plaintext of a stored file, chunk by chunk, each checked before it is given out; raises
    :class:`SealedFileError` at the first chunk that is not the one expected."""
    head = src.read(HEADER.size)
    if len(head) != HEADER.size:
        raise SealedFileError("the file is shorter than its header")
    magic, fmt, stored_id = HEADER.unpack(head)
    if magic != MAGIC:
        raise SealedFileError("the file is not a sealed attachment (wrong header)")
    if fmt != FORMAT:
        raise SealedFileError(f"unknown format {fmt}")
    if stored_id != file_id:
        raise SealedFileError("the file on disk belongs to another attachment (swapped or renamed)")
    index = 0
    while True:
        raw_len = src.read(_LENGTH.size)
        if not raw_len:
            raise SealedFileError(f"the file ends before its last chunk (cut short after chunk {index})")
        if len(raw_len) != _LENGTH.size:
            raise SealedFileError(f"chunk {index}: its length is cut short")
        (length,) = _LENGTH.unpack(raw_len)
        if not 0 < length <= MAX_TOKEN:
            raise SealedFileError(f"chunk {index}: impossible length {length}")
        token = src.read(length)
        if len(token) != length:
            raise SealedFileError(f"chunk {index}: cut short")
        try:
            plain = key.decrypt(base64.urlsafe_b64encode(token))
        except InvalidToken:
            raise SealedFileError(
                f"chunk {index}: does not open with this file's key (altered or from elsewhere)"
            ) from None
        if len(plain) < _BINDING.size:
            raise SealedFileError(f"chunk {index}: too short")
        fid, at, last = _BINDING.unpack_from(plain)
        data = plain[_BINDING.size :]
        if fid != file_id:
            raise SealedFileError(f"chunk {index}: belongs to another file")
        if at != index:
            raise SealedFileError(f"chunk {index}: holds chunk {at} (chunks reordered, repeated or dropped)")
        if last not in (0, 1) or (last == 0 and len(data) != CHUNK):
            raise SealedFileError(f"chunk {index}: malformed")
        yield data
        if last:
            if src.read(1):
                raise SealedFileError("the file goes on after its last chunk (data appended)")
            return
        index += 1
