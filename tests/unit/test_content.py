"""wbs_engine.content: the whole-file checks of documents and images (pure functions over bytes)."""

import io
import struct
import zipfile
import zlib

import pytest

from wbs_engine import content

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
SOS = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
SCAN = bytes(range(256)).replace(b"\xff", b"\xff\x00") * 4


def jpeg(*middle: bytes, tail: bytes = b"") -> bytes:
    return SOI + APP0 + b"".join(middle or (SOS + SCAN,)) + EOI + tail


def png(tail: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
        + chunk(b"IEND", b"")
        + tail
    )


def webp(payload: bytes = b"VP8L" + b"\x05\x00\x00\x00" + b"\x2f\x00\x00\x00\x10", tail: bytes = b"") -> bytes:
    body = b"WEBP" + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"") + tail


def zipped(*entries: tuple[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


DOCX = [("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<R/>"), ("word/document.xml", "<w:document/>")]
ODT = [
    ("mimetype", "application/vnd.oasis.opendocument.text"),
    ("META-INF/manifest.xml", "<m/>"),
    ("content.xml", "<c/>"),
    ("Object 1/content.xml", "<c/>"),
    ("Pictures/a.png", png()),
]


@pytest.mark.parametrize(
    "data",
    [
        jpeg(),
        jpeg(SOS + SCAN, b"\xff\xc4\x00\x04\x00\x00", SOS + SCAN),  # progressive: tables between scans
        jpeg(SOS + SCAN[:100] + b"\xff\xd0" + SCAN[100:] + b"\xff\xff\xff\xd1" + SCAN),  # restarts, fill bytes
        jpeg(b"\xff\xfe\x00\x06MZ\x90\x00", SOS + SCAN),  # "MZ" inside a comment segment is the image's own
        jpeg(tail=b"\x00\x00\x00\x18ftypmp42" + bytes(500)),  # a motion photo's video after EOI
        (SOI + APP0 + SOS + SCAN)[:-50],  # cut short inside its scan: nothing after the image
    ],
)
def test_well_formed_jpegs_pass(data):
    assert content.check_image("jpeg", data, "JPEG") is None


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff" + b"MZ\x90\x00" + bytes(100),  # the attack: JPEG magic over a PE
        SOI + b"\x00\x00",  # no marker where one must be
        SOI + b"\xff\xe0\xff\xff",  # a segment longer than the file
        SOI + b"\xff\xe0\x00\x01",  # a length below 2
        SOI + APP0,  # ends before any image data
    ],
)
def test_broken_jpegs_are_refused(data):
    problem = content.check_image("jpeg", data, "JPEG")
    assert problem is not None and "damaged" in problem.msgid


@pytest.mark.parametrize(
    "tail",
    [
        b"MZ\x90\x00PE",
        b"\x00\x00\x00MZ",
        b"\x7fELF\x02\x01",
        b"\xcf\xfa\xed\xfe",
        b"#!/bin/sh\n",
        b"Rar!\x1a\x07\x00",
        b"7z\xbc\xaf\x27\x1c",
        b"\x1f\x8b\x08",
        zipped(("a.txt", "x")),
    ],
)
def test_a_program_or_archive_after_the_image_is_refused(tail):
    for kind, data in (("jpeg", jpeg(tail=tail)), ("png", png(tail)), ("webp", webp(tail=tail))):
        problem = content.check_image(kind, data, kind.upper())
        assert problem is not None and "hidden" in problem.msgid, kind


def test_pngs_and_webps_are_read_to_their_end():
    assert content.check_image("png", png(), "PNG") is None
    assert content.check_image("png", png()[:-6], "PNG") is not None  # IEND cut
    assert content.check_image("webp", webp(), "WEBP") is None
    assert content.check_image("webp", webp(b"VP8L" + b"\x04\x00\x00\x00abcd"), "WEBP") is None  # even size
    assert content.check_image("webp", b"RIFF\xff\xff\xff\x00WEBPVP8L", "WEBP") is not None  # longer than the file


def test_a_zip_end_record_near_the_end_makes_any_file_a_zip():
    archive = zipped(("a.exe", "MZ"))
    assert content.opens_as_zip((b"%PDF-1.4\n" + archive)[-content.ZIP_TAIL :])
    assert not content.opens_as_zip(b"%PDF-1.4\n%%EOF\n")
    far = archive + bytes(content.ZIP_TAIL)  # a ZIP reader no longer finds it: neither do we
    assert not content.opens_as_zip(far[-content.ZIP_TAIL :])


def test_documents_in_their_format_pass():
    assert content.check_document("docx", zipped(*DOCX, ("word/media/image1.png", png())), "DOCX") is None
    xlsx = zipped(("[Content_Types].xml", "<T/>"), ("xl/workbook.xml", "<w/>"), ("xl/printerSettings/p1.bin", b"\0"))
    assert content.check_document("xlsx", xlsx, "XLSX") is None
    assert content.check_document("odt", zipped(*ODT), "ODT") is None
    chart = zipped(*DOCX, ("word/embeddings/Microsoft_Excel_Worksheet.xlsx", xlsx))
    assert content.check_document("docx", chart, "DOCX") is None


@pytest.mark.parametrize(
    "kind, entries, words",
    [
        ("docx", [*DOCX, ("payload.exe", "x")], "program"),
        ("docx", [*DOCX, ("word/run.PS1", "x")], "program"),
        ("docx", [*DOCX, ("word/vbaProject.bin", "x")], "program"),
        ("docx", [*DOCX, ("word/media/image2.png", b"\x7fELF\x02")], "program"),
        ("docx", [*DOCX, ("word/media/x.zip", "x")], "another archive"),
        ("docx", [*DOCX, ("word/media/image3.png", zipped(("a", "b")))], "another archive"),
        ("odt", [*ODT, ("Object 2/inner.odt", zipped(*ODT))], "another archive"),  # ODT embeds no documents
        ("docx", [*DOCX, ("xl/workbook.xml", "<w/>")], "does not have"),  # a part of another format
        ("odt", [*ODT, ("Basic/Standard/Module1.xml", "<macro/>")], "does not have"),  # macros
        ("docx", [*DOCX, ("word/../../etc/x.xml", "x")], "damaged"),
        ("docx", [*DOCX, ("word\\x.xml", "x")], "damaged"),
        ("docx", [*DOCX, ("/word/x.xml", "x")], "damaged"),
        ("docx", DOCX[:2], "damaged"),  # no word/document.xml
        ("xlsx", DOCX, "does not have"),
    ],
)
def test_documents_with_something_else_inside_are_refused(kind, entries, words):
    problem = content.check_document(kind, zipped(*entries), kind.upper())
    assert problem is not None and words in problem.msgid, problem


def test_a_repeated_name_and_a_damaged_archive_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, pytest.warns(UserWarning):
        for name, data in DOCX:
            z.writestr(name, data)
        z.writestr("word/document.xml", "<other/>")
    assert "damaged" in content.check_document("docx", buf.getvalue(), "DOCX").msgid
    good = zipped(*DOCX)
    assert "damaged" in content.check_document("docx", good[: len(good) // 2], "DOCX").msgid
    crc = bytearray(good)  # a byte of a stored part changed: its CRC no longer matches
    crc[good.index(b"_rels/.rels") + 20] ^= 0xFF
    assert content.check_document("docx", bytes(crc), "DOCX") is not None


def test_zip_bombs_are_refused_from_the_directory():
    def bomb(mib: int) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in DOCX:
                z.writestr(name, data)
            z.writestr("word/media/blank.xml", bytes(mib << 20))
        return buf.getvalue()

    assert "unpacks" in content.check_document("docx", bomb(2), "DOCX").msgid  # 2 MiB from ~2 KB
    # many small parts each under the ratio floor, together a thousand times the file
    many = zipped(*DOCX, *((f"word/media/p{i}.xml", bytes(600_000)) for i in range(4)))
    assert "unpacks" in content.check_document("docx", many, "DOCX").msgid


def test_an_encrypted_entry_is_refused():
    data = bytearray(zipped(*DOCX))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag of the first entry
    assert "password" in content.check_document("docx", bytes(data), "DOCX").msgid
