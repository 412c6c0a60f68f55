"""Reading task data with the official cvat-sdk / cvat-cli 2.80 against the embedded runtime:
tasks made from PNG images, EXIF-rotated JPEGs and a video encoded here; then data/meta, frames,
chunks (answered with a redirect to the embedded S3, another origin), cvat_sdk.datasets.TaskDataset and
auto-annotation (a video task too: its MP4 original chunks are read as image sets),
jobs, previews, deleted frames, `cvat-cli task frames`, and FiftyOne's raw frame request. Pixels
are checked against the sources: PNG originals come back lossless."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest

pytest.importorskip("cvat_sdk")
conftest = pytest.importorskip("tests.e2e.conftest")  # the embedded-runtime fixtures

import av  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
from cvat_sdk import Client, Config, models  # noqa: E402
from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: E402
from cvat_sdk.datasets import MediaDownloadPolicy, TaskDataset  # noqa: E402
from PIL import Image  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
USER, PASSWORD = "e2e-media", "e2e-media-pass-1"
SIZE = (96, 64)


def picture(seed: int, size: tuple[int, int] = SIZE) -> Image.Image:
    """Smooth gradients with an asymmetric corner mark: lossy codecs keep them close, a rotation
    or a mix-up of frames does not."""
    w, h = size
    x = np.linspace(0, 1, w)[None, :]
    y = np.linspace(0, 1, h)[:, None]
    pixels = np.stack([(60 + 150 * x + 0 * y), (40 + 30 * seed % 200 + 0 * x + 60 * y),
                       (200 - 120 * x * y)], axis=-1)
    pixels[: h // 4, : w // 4] = (250, 250, 20)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def diff(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size, (a.size, b.size)
    return float(np.abs(np.asarray(a.convert("RGB"), np.int16) - np.asarray(b.convert("RGB"), np.int16)).mean())


@pytest.fixture(scope="module")
def server(runtime) -> str:
    made = conftest.cli("createsuperuser", "--username", USER, "--email", "media@example.com",
                        "--password", PASSWORD, data_dir=runtime.data_dir)
    assert made.returncode == 0, made.stderr
    return runtime.url


@pytest.fixture(scope="module")
def client(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    config = Config(status_check_period=0.2, cache_dir=tmp_path_factory.mktemp("sdk-cache"))
    with Client(server, config=config) as c:
        c.login((USER, PASSWORD))
        yield c


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    for i in range(5):
        picture(i).save(folder / f"img{i}.png")
    # an EXIF-rotated JPEG (orientation 6: view it rotated 90 degrees clockwise) and a plain one
    upright = picture(7, (64, 96))
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(folder / "rotated.jpg", quality=95, exif=exif.tobytes())
    picture(8).save(folder / "plain.jpg", quality=95)
    with av.open(str(folder / "clip.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"crf": "10", "g": "4"}
        for i in range(10):
            frame = av.VideoFrame.from_image(picture(i * 3))
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return folder


def create(client: Client, name: str, files: list[Path], **data_params: object) -> Task:
    return client.tasks.create_from_data({"name": name, "labels": [{"name": "thing"}], "segment_size": 3},
                                         resources=[str(f) for f in files], resource_type=ResourceType.LOCAL,
                                         data_params={"image_quality": 90, "chunk_size": 2,
                                                      "sorting_method": "predefined", **data_params})


@pytest.fixture(scope="module")
def png_task(client: Client, sources: Path) -> Task:
    return create(client, "e2e pngs", [sources / f"img{i}.png" for i in range(5)])


def test_meta_frames_and_chunks_of_png_images(png_task: Task, sources: Path, tmp_path: Path):
    meta = png_task.get_meta()
    assert [f.name for f in meta.frames] == [f"img{i}.png" for i in range(5)]
    assert (meta.size, meta.chunk_size, meta.deleted_frames) == (5, 2, [])
    assert {(f.width, f.height) for f in meta.frames} == {SIZE}
    # frames, re-saved by the SDK with Pillow: PNG in, PNG out, every pixel
    png_task.download_frames([0, 4], outdir=tmp_path, quality="original")
    for i in (0, 4):
        saved = Image.open(tmp_path / f"frame_{i:06d}.png")
        assert np.array_equal(np.asarray(saved), np.asarray(Image.open(sources / f"img{i}.png")))
    compressed = Image.open(png_task.get_frame(2, quality="compressed"))
    assert compressed.format == "JPEG" and diff(compressed, picture(2)) < 3
    # chunks: the original chunk holds the uploaded files, byte for byte, in frame order
    chunk = io.BytesIO()
    png_task.download_chunk(1, chunk, quality="original")
    with zipfile.ZipFile(chunk) as z:
        assert [z.read(i) for i in z.infolist()] == [(sources / f"img{i}.png").read_bytes() for i in (2, 3)]


def test_task_dataset_reads_every_frame(client: Client, png_task: Task):
    dataset = TaskDataset(client, png_task.id, load_annotations=False)
    assert [s.frame_name for s in dataset.samples] == [f"img{i}.png" for i in range(5)]
    for i, sample in enumerate(dataset.samples):
        assert np.array_equal(np.asarray(sample.media.load_image()), np.asarray(picture(i)))


def test_jobs_previews_and_deleted_frames(client: Client, png_task: Task, tmp_path: Path):
    jobs = sorted(png_task.get_jobs(), key=lambda j: j.start_frame)
    assert [(j.start_frame, j.stop_frame) for j in jobs] == [(0, 2), (3, 4)]
    second = client.jobs.retrieve(jobs[1].id)
    assert [f.name for f in second.get_meta().frames] == ["img3.png", "img4.png"]
    second.download_frames([3, 4], outdir=tmp_path, quality="original")
    for i in (3, 4):
        assert np.array_equal(np.asarray(Image.open(tmp_path / f"frame_{i:06d}.png")), np.asarray(picture(i)))
    for preview in (png_task.get_preview(), second.get_preview()):
        shown = Image.open(preview)
        assert shown.format == "JPEG" and max(shown.size) <= 256
    # the job's own chunk (jobs of 3 frames, chunks of 2: the job's chunks are its own)
    _, answer = client.api_client.jobs_api.retrieve_data(jobs[0].id, type="chunk", index=1, quality="original",
                                                         _parse_response=False)
    with zipfile.ZipFile(io.BytesIO(answer.data)) as z:
        assert len(z.infolist()) == 1
    png_task.remove_frames_by_ids([1])
    assert png_task.get_meta().deleted_frames == [1]
    assert [s.frame_index for s in TaskDataset(client, png_task.id, load_annotations=False).samples] == [0, 2, 3, 4]
    png_task.remove_frames_by_ids([])


def test_exif_rotated_jpegs_are_served_upright(client: Client, sources: Path):
    task = create(client, "e2e jpegs", [sources / "rotated.jpg", sources / "plain.jpg"])
    meta = task.get_meta()
    assert [(f.name, f.width, f.height) for f in meta.frames] == [("rotated.jpg", 64, 96), ("plain.jpg", 96, 64)]
    rotated = Image.open(task.get_frame(0, quality="original"))
    assert rotated.size == (64, 96) and diff(rotated, picture(7, (64, 96))) < 4
    assert diff(Image.open(task.get_frame(0, quality="compressed")), picture(7, (64, 96))) < 4
    samples = TaskDataset(client, task.id, load_annotations=False).samples
    assert diff(samples[0].media.load_image(), picture(7, (64, 96))) < 4
    assert diff(samples[1].media.load_image(), picture(8)) < 4


def test_a_video_task(client: Client, sources: Path, tmp_path: Path):
    task = create(client, "e2e video", [sources / "clip.mp4"])
    # MP4 original chunks are stored, but read as image sets (as cvat-sdk's datasets want them)
    assert (task.data_original_chunk_type, task.size, task.data_chunk_size) == ("imageset", 10, 2)
    assert [(f.name, f.width, f.height) for f in task.get_meta().frames] == [("clip.mp4", *SIZE)] * 10
    task.download_frames([0, 7], outdir=tmp_path, quality="original")
    assert diff(Image.open(tmp_path / "frame_000007.png"), picture(21)) < 4
    assert diff(Image.open(task.get_frame(9, quality="compressed")), picture(27)) < 4
    chunk = io.BytesIO()
    task.download_chunk(4, chunk, quality="original")
    with zipfile.ZipFile(chunk) as z:
        assert [i.filename for i in z.infolist()] == ["000000.png", "000001.png"]
        assert diff(Image.open(io.BytesIO(z.read("000001.png"))), picture(27)) < 4
    for policy in (MediaDownloadPolicy.PRELOAD_ALL, MediaDownloadPolicy.FETCH_FRAMES_ON_DEMAND):
        samples = TaskDataset(client, task.id, load_annotations=False, media_download_policy=policy).samples
        assert [(s.frame_index, s.frame_name) for s in samples] == [(i, "clip.mp4") for i in range(10)]
        for i, sample in enumerate(samples):
            image = sample.media.load_image()
            assert image.size == SIZE and diff(image, picture(i * 3)) < 4, (policy, i)


def test_auto_annotate_a_video_task(client: Client, sources: Path):
    """`cvat-cli task auto-annotate` runs cvat_sdk.auto_annotation over TaskDataset's frames and
    stores what the function found through the annotations API (source "auto")."""
    from cvat_sdk import auto_annotation as cvataa

    task = create(client, "e2e video auto-annotate", [sources / "clip.mp4"])
    seen: list[float] = []

    class WholeFrame:
        spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("thing", 0)])

        def detect(self, context: object, image: Image.Image) -> list[models.LabeledShapeRequest]:
            seen.append(diff(image, picture(len(seen) * 3)))
            return [cvataa.rectangle(0, [0, 0, image.width - 1, image.height - 1])]

    cvataa.annotate_task(client, task.id, WholeFrame())
    assert len(seen) == 10 and max(seen) < 4
    stored = task.get_annotations().shapes
    assert sorted((s.frame, s.points, s.source) for s in stored) == [
        (i, [0, 0, SIZE[0] - 1, SIZE[1] - 1], "auto") for i in range(10)]


def test_a_video_task_with_zip_chunks_feeds_the_dataset(client: Client, sources: Path):
    task = create(client, "e2e video zip", [sources / "clip.mp4"], use_zip_chunks=True)
    assert task.data_original_chunk_type == "imageset"
    samples = TaskDataset(client, task.id, load_annotations=False).samples
    assert len(samples) == 10 and {s.frame_name for s in samples} == {"clip.mp4"}
    for i in (0, 5, 9):
        assert diff(samples[i].media.load_image(), picture(i * 3)) < 4


def test_cli_task_frames_and_an_access_token_across_the_redirect(client: Client, png_task: Task, server: str,
                                                                 tmp_path: Path, caplog):
    host, port = server.rsplit(":", 1)
    env = {k: v for k, v in os.environ.items() if k != "CVAT_ACCESS_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "cvat_cli", "--server-host", host, "--server-port", port,
                           "--auth", f"{USER}:{PASSWORD}", "task", "frames", str(png_task.id), "1", "3",
                           "--outdir", str(tmp_path)], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    for i in (1, 3):
        saved = Image.open(tmp_path / f"task_{png_task.id}_frame_{i:06d}.png")
        assert np.array_equal(np.asarray(saved), np.asarray(picture(i)))
    # a Bearer token is dropped on the cross-origin redirect to the storage (S3 would refuse it)
    token, _ = client.api_client.auth_api.create_access_tokens(models.AccessTokenWriteRequest(name="media"))
    caplog.set_level(logging.WARNING)
    with Client(server, config=Config(status_check_period=0.2)) as by_token:
        by_token.api_client.set_default_header("Authorization", f"Bearer {token.value}")
        chunk = io.BytesIO()
        by_token.tasks.retrieve(png_task.id).download_chunk(0, chunk, quality="compressed")
        with zipfile.ZipFile(chunk) as z:
            assert len(z.infolist()) == 2


def test_fiftyones_raw_requests(png_task: Task, server: str, sources: Path):
    session = requests.Session()
    login = session.post(f"{server}/api/auth/login", json={"username": USER, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": server})
    frame = session.get(f"{server}/api/tasks/{png_task.id}/data?type=frame&quality=original&number=2", timeout=30)
    assert frame.status_code == 200 and frame.content == (sources / "img2.png").read_bytes()
    chunk = session.get(f"{server}/api/tasks/{png_task.id}/data?type=chunk&quality=original&number=0", timeout=30)
    assert chunk.status_code == 200 and chunk.history and chunk.history[0].status_code == 302
    assert chunk.url.split("/")[2] != server.split("/")[2]  # the storage: another origin
    meta = session.get(f"{server}/api/tasks/{png_task.id}/data/meta", timeout=30).json()
    assert [f["name"] for f in meta["frames"]] == [f"img{i}.png" for i in range(5)]  # read by position



def _cli_create(server: str, *args: str) -> int:
    host, port = server.rsplit(":", 1)
    done = subprocess.run([sys.executable, "-m", "cvat_cli", "--server-host", host, "--server-port", port,
                           "--auth", f"{USER}:{PASSWORD}", "task", "create", *args, "--completion_verification_period",
                           "1"], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])  # the CLI prints the new task's id


def test_cli_task_create_from_local_files_and_remote_urls(client: Client, server: str, sources: Path):
    import functools
    import http.server
    import threading

    video = _cli_create(server, "cli video", "local", str(sources / "clip.mp4"), "--labels", '[{"name": "car"}]',
                        "--image_quality", "80", "--segment_size", "3", "--frame_step", "2")
    task = client.tasks.retrieve(video)
    assert (task.size, task.mode) == (5, "interpolation")
    # CVAT's default overlap for video: min(5, segment_size // 2) = 1
    assert [(j.start_frame, j.stop_frame) for j in sorted(task.get_jobs(), key=lambda j: j.start_frame)] == [
        (0, 2), (2, 4)]
    assert diff(Image.open(task.get_frame(2, quality="original")), picture(4 * 3)) < 4  # frame 2 is source frame 4
    # remote_files from a web server on this machine (loopback: allowed by `cvat-serverless up`)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sources))
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{web.server_address[1]}"
        remote = _cli_create(server, "cli remote", "remote", f"{base}/img0.png", f"{base}/img1.png",
                             "--labels", '[{"name": "car"}]')
    finally:
        web.shutdown()
    task = client.tasks.retrieve(remote)
    assert task.size == 2
    assert np.array_equal(np.asarray(Image.open(task.get_frame(1, quality="original")).convert("RGB")),
                          np.asarray(picture(1)))
