"""The attachment format (wbs_engine.sealedfile): a round trip at every chunk boundary, and every way of
tampering with the chunks is caught at the chunk where it happens."""

import io
import os
import struct

import pytest
from cryptography.fernet import Fernet

from wbs_engine import sealedfile
from wbs_engine.crypto import Keyring
from wbs_engine.sealedfile import CHUNK, HEADER, SealedFileError, Writer, read_chunks

FID = bytes(range(16))
OTHER = bytes(range(16, 32))


def seal(data: bytes, key: Fernet, fid: bytes = FID, piece: int = 10_000) -> bytes:
    out = io.BytesIO()
    w = Writer(out, key, fid)
    for i in range(0, len(data), piece):
        w.write(data[i : i + piece])
    w.close()
    return out.getvalue()


def chunks_of(blob: bytes) -> list[bytes]:
    """The raw framed chunks (length + token) after the header."""
    out, at = [], HEADER.size
    while at < len(blob):
        (n,) = struct.unpack(">I", blob[at : at + 4])
        out.append(blob[at : at + 4 + n])
        at += 4 + n
    return out


def read_all(blob: bytes, key: Fernet, fid: bytes = FID) -> bytes:
    return b"".join(read_chunks(io.BytesIO(blob), key, fid))


@pytest.fixture
def key():
    case_key, _wrapped = Keyring.generate().new_case_key()
    return case_key.file_key(FID)


@pytest.mark.parametrize("size", [1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_at_every_chunk_boundary(key, size):
    data = os.urandom(size)
    blob = seal(data, key)
    pieces = list(read_chunks(io.BytesIO(blob), key, FID))
    assert b"".join(pieces) == data
    assert len(pieces) == max(1, -(-size // CHUNK)) and all(len(p) <= CHUNK for p in pieces)
    assert blob[:6] == b"WBSATT" and blob[7:23] == FID


def test_the_writer_holds_at_most_two_chunks(key):
    out = io.BytesIO()
    w = Writer(out, key, FID)
    for _ in range(10):
        w.write(os.urandom(CHUNK // 2 + 3))
        assert len(w._pending) <= CHUNK  # one chunk held back until it is known whether it is the last
    w.close()
    assert len(chunks_of(out.getvalue())) == 6


def test_no_plaintext_on_disk(key):
    data = b"Kepala seksi meminta uang Rp 5.000.000 " * 4000
    blob = seal(data, key)
    assert b"Kepala seksi" not in blob and b"uang" not in blob


def tampered(blob: bytes, how: str, key: Fernet) -> bytes:
    head, parts = blob[: HEADER.size], chunks_of(blob)
    if how == "flip_a_byte":
        b = bytearray(blob)
        b[HEADER.size + 4 + 100] ^= 1
        return bytes(b)
    if how == "reorder":
        return head + parts[1] + parts[0] + b"".join(parts[2:])
    if how == "repeat":
        return head + parts[0] + b"".join(parts)
    if how == "drop_middle":
        return head + parts[0] + b"".join(parts[2:])
    if how == "cut_off_last":
        return head + b"".join(parts[:-1])
    if how == "cut_mid_chunk":
        return blob[:-10]
    if how == "append_junk":
        return blob + b"\x00\x00\x00\x05hello"
    if how == "append_a_chunk":
        return blob + parts[-1]
    if how == "header_of_another_file":
        return HEADER.pack(b"WBSATT", 1, OTHER) + b"".join(parts)
    if how == "not_ours":
        return b"%PDF-1.4 " + blob
    if how == "huge_length":
        return head + b"\xff\xff\xff\xff" + parts[0][4:]
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how, message",
    [
        ("flip_a_byte", "chunk 0: does not open"),
        ("reorder", "chunk 0: holds chunk 1"),
        ("repeat", "chunk 1: holds chunk 0"),
        ("drop_middle", "chunk 1: holds chunk 2"),
        ("cut_off_last", "ends before its last chunk"),
        ("cut_mid_chunk", "cut short"),
        ("append_junk", "goes on after its last chunk"),
        ("append_a_chunk", "goes on after its last chunk"),
        ("header_of_another_file", "belongs to another attachment"),
        ("not_ours", "not a sealed attachment"),
        ("huge_length", "impossible length"),
    ],
)
def test_tampering_is_caught(key, how, message):
    blob = seal(os.urandom(3 * CHUNK + 5), key)
    with pytest.raises(SealedFileError, match=message):
        read_all(tampered(blob, how, key), key)


def test_a_chunk_of_another_file_or_case_does_not_open(key):
    case_key, _ = Keyring.generate().new_case_key()
    data = os.urandom(2 * CHUNK + 1)
    mine = seal(data, key)
    # the same case, another file: its own derived key
    other_file_key = Keyring.generate().new_case_key()[0].file_key(OTHER)
    theirs = seal(data, other_file_key, OTHER)
    mixed = mine[: HEADER.size] + chunks_of(mine)[0] + chunks_of(theirs)[1] + chunks_of(mine)[2]
    with pytest.raises(SealedFileError, match="chunk 1: does not open"):
        read_all(mixed, key)
    # the whole file under another case's key, with this file's id: nothing opens
    with pytest.raises(SealedFileError, match="chunk 0: does not open"):
        read_all(seal(data, case_key.file_key(FID)), key)


def test_file_keys_differ_per_file_and_per_case():
    k1, _ = Keyring.generate().new_case_key()
    k2, _ = Keyring.generate().new_case_key()
    token = k1.file_key(FID).encrypt(b"x")
    assert k1.file_key(FID).decrypt(token) == b"x"
    for other in (k1.file_key(OTHER), k2.file_key(FID)):
        with pytest.raises(Exception):  # noqa: B017 (InvalidToken)
            other.decrypt(token)


def test_max_token_fits_a_full_chunk(key):
    (full,) = chunks_of(seal(os.urandom(CHUNK), key))
    assert len(full) - 4 <= sealedfile.MAX_TOKEN
