import numpy as np
import pytest

from solutions.imaging.decode import ImageDecodeError, decode_image, read_images


def encode(image, ext=".jpg"):
    import cv2

    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


def test_truncated_jpeg_is_rejected():
    data = encode(np.full((16, 16, 3), 128, np.uint8))
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(data[: len(data) // 2])


def test_garbage_is_rejected_and_gray_stays_one_channel():
    with pytest.raises(ImageDecodeError):
        decode_image(b"not an image at all")
    assert decode_image(encode(np.zeros((5, 7), np.uint8), ".png")).shape == (5, 7, 1)


def test_read_images_resizes_converts_and_reports_failures(tmp_path):
    good = tmp_path / "a.png"
    good.write_bytes(encode(np.zeros((40, 20, 3), np.uint8), ".png"))
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"\xff\xd8garbage")
    decoded = read_images([good, bad, tmp_path / "missing.png"], (16, 16), 1)
    assert decoded.pixels.shape == (1, 16, 16, 1)
    assert decoded.kept.tolist() == [0]
    assert [reason for _, reason in decoded.failures][0].startswith("truncated")
    assert len(decoded.failures) == 2


def test_undecodable_bytes_leave_no_opencv_lines_on_stderr(tmp_path, capfd):
    import cv2

    level = cv2.utils.logging.getLogLevel()
    garbage = {"b.bmp": b"BM" + bytes(range(256)) * 2, "p.png": b"\x89PNG\r\n\x1a\n" + bytes(range(255, 0, -1)) * 2,
               "j.jpg": b"\xff\xd8\xff\xe0" + b"\x13\x37" * 50 + b"\xff\xd9", "t.txt.png": b"just text"}
    for name, data in garbage.items():
        with pytest.raises(ImageDecodeError, match="not a decodable image"):
            decode_image(data, name)
        (tmp_path / name).write_bytes(data)
    decoded = read_images(sorted(tmp_path.iterdir()), (8, 8), 3, workers=4)
    assert len(decoded.failures) == len(garbage)
    assert capfd.readouterr().err == ""  # no "[ WARN:0@...]" / "[ERROR:0@...]" from OpenCV itself
    assert cv2.utils.logging.getLogLevel() == level  # OpenCV's own level is back afterwards
