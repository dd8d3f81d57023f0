"""Which files a shop accepts, told from the content, and the names they are shown with."""

from __future__ import annotations

import pytest

from chatserver.domain.files import DEFAULT_TYPES, FileRefused, check_file, safe_name, sniff
from tests._files import EXE, GIF, JPEG, WEBP, pdf, png

MB = 1_048_576


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (JPEG, "image/jpeg"),
        (png(), "image/png"),
        (GIF, "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (WEBP, "image/webp"),
        (pdf(), "application/pdf"),
    ],
)
def test_each_accepted_type_is_told_from_its_first_bytes(data: bytes, content_type: str) -> None:
    assert sniff(data[:16]) == content_type
    assert check_file(data[:16], len(data), DEFAULT_TYPES, 10 * MB) == content_type


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (EXE, "a Windows program"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 20, "a Linux program"),
        (b"PK\x03\x04" + b"\x00" * 20, "a ZIP archive"),
        (b"<html><script>alert(1)</script>", "an HTML or XML document"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", ""),
        (b"just some text", ""),
    ],
)
def test_other_content_is_refused_whatever_its_name(data: bytes, what: str) -> None:
    with pytest.raises(FileRefused) as refused:
        check_file(data[:16], len(data), DEFAULT_TYPES, 10 * MB)
    assert refused.value.status == 415
    assert "JPEG, PNG, GIF, WEBP, PDF" in refused.value.message
    assert what in refused.value.message


def test_a_type_the_shop_left_out_is_refused() -> None:
    with pytest.raises(FileRefused, match=r"only these files can be attached: PNG$"):
        check_file(pdf()[:16], 500, ["image/png"], 10 * MB)


def test_size_limits() -> None:
    with pytest.raises(FileRefused, match="limit of 10 MB") as refused:
        check_file(png()[:16], 10 * MB + 1, DEFAULT_TYPES, 10 * MB)
    assert refused.value.status == 413
    with pytest.raises(FileRefused, match="empty"):
        check_file(b"", 0, DEFAULT_TYPES, 10 * MB)
    assert check_file(png()[:16], 10 * MB, DEFAULT_TYPES, 10 * MB) == "image/png"


@pytest.mark.parametrize(
    ("name", "content_type", "shown"),
    [
        ("parcel.png", "image/png", "parcel.png"),
        ("Paket kaputt.JPEG", "image/jpeg", "Paket kaputt.JPEG"),
        ("photo.jpg", "image/jpeg", "photo.jpg"),
        ("../../data/secret.key", "application/pdf", "secret.key.pdf"),
        ("C:\\Users\\me\\invoice.pdf", "application/pdf", "invoice.pdf"),
        ('a"b<c>\r\n.png', "image/png", "a_b_c_.png"),
        ("setup.exe", "image/png", "setup.exe.png"),
        ("", "image/gif", "file.gif"),
        ("x" * 300 + ".webp", "image/webp", "x" * 95 + ".webp"),
        ("Größe.png", "image/png", "Größe.png"),
    ],
)
def test_names_lose_paths_and_odd_characters_and_end_in_their_real_type(
    name: str, content_type: str, shown: str
) -> None:
    assert safe_name(name, content_type) == shown
