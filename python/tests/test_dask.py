"""aotvit.dask: a LocalCluster of 2 worker processes gives embeddings bit-identical to a single-process run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import numpy as np
import pytest
from PIL import Image

import aotvit
from conftest import IMAGES, VIT

distributed = pytest.importorskip("distributed")
import aotvit.dask as ad  # noqa: E402  (after the importorskip)


def make_images(folder: Path) -> List[Path]:
    """36 images (PNG and JPEG, several sizes) cut deterministically from the test photos, plus one corrupt file."""
    folder.mkdir()
    paths = []
    for name in ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"):
        source = Image.open(IMAGES / name).convert("RGB")
        w, h = source.size
        for i in range(9):
            crop = source.crop((i * w // 20, i * h // 30, w - i * w // 25, h - i * h // 35))
            path = folder / f"{Path(name).stem}-{i}.{'jpg' if i % 2 else 'png'}"
            crop.save(path, quality=90) if i % 2 else crop.save(path)
            paths.append(path)
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes((IMAGES / "rocket.jpg").read_bytes()[:200])
    return sorted(paths + [corrupt])


def test_local_cluster_matches_single_process(tmp_path: Path, vit: aotvit.Model) -> None:
    paths = make_images(tmp_path / "images")
    out = tmp_path / "embeddings"
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    try:
        with distributed.Client(cluster) as client:
            summary = ad.embed_paths(client, tmp_path / "images", out, model=VIT, threads=1, batch_size=4,
                                     partition_size=8)
            # The plugin opened one model in each worker process.
            names = client.run(lambda: ad.model_on_worker().name)
            assert sorted(names.values()) == [VIT, VIT]
    finally:
        cluster.close()
    assert summary["images"] == 36 and summary["failed"] == 1 and summary["shards"] == 5

    done, embeddings = ad.load_embeddings(out)
    assert embeddings.shape == (36, 768) and embeddings.dtype == np.float32
    assert done == [str(p) for p in paths if p.name != "corrupt.jpg"]  # input order, the failed image left out
    failed = [f for meta in sorted(out.glob("part-*.json")) for f in json.loads(meta.read_text())["failed"]]
    assert [f["path"] for f in failed] == [str(tmp_path / "images" / "corrupt.jpg")]
    assert "AOTVIT_BAD_IMAGE" in failed[0]["error"]

    # Single process, one image per call: bit-identical.
    expected = np.concatenate([vit(path).pooler_output for path in done])
    assert embeddings.tobytes() == expected.tobytes()


def test_plugin_errors_are_reported() -> None:
    with distributed.Client(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as client:
        future = client.submit(ad.model_on_worker, "nothing")
        with pytest.raises(RuntimeError, match="register aotvit.dask.ModelPlugin"):
            future.result()
        # A model that cannot be opened fails the registration, with the library's message.
        with pytest.raises(Exception, match="AOTVIT_INVALID_ARGUMENT: unknown model 'resnet-50'"):
            ad.register(client, ad.ModelPlugin("resnet-50"))


def test_image_paths_bag(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.png", "a.JPG", "sub/c.gif", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    bag = ad.image_paths(tmp_path, partition_size=2)
    assert bag.npartitions == 2
    assert bag.compute(scheduler="sync") == [str(tmp_path / "a.JPG"), str(tmp_path / "b.png"),
                                             str(tmp_path / "sub" / "c.gif")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        ad.image_paths(tmp_path / "empty")
    with pytest.raises(NotADirectoryError):
        ad.image_paths(tmp_path / "b.png")
