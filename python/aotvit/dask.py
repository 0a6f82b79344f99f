"""Scale-out on Dask distributed: embed millions of images on many workers, each holding the model once.

    from distributed import Client, LocalCluster
    import aotvit.dask as ad

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        summary = ad.embed_paths(client, paths, "embeddings/", model="vit-base-patch32-224-in21k",
                                 weights="google/vit-base-patch32-224-in21k")
    paths, vectors = ad.load_embeddings("embeddings/")     # in input order

The same code runs on machines started with ``dask scheduler`` and ``dask worker tcp://SCHEDULER:8786``: pass
``Client("tcp://SCHEDULER:8786")``. Every worker must see the image paths, the weights (file, folder or a hub cache
holding the repo) and the output folder at the same paths (a shared file system), and must have this package
installed.

How it works: :class:`ModelPlugin` is a distributed WorkerPlugin; registering it opens the model once in every
worker (and in every worker that joins later), so tasks never load weights. :func:`write_embeddings` turns each
partition of a bag of paths into one shard: ``part-NNNNN.npy`` (float32, one row per image that succeeded) and
``part-NNNNN.json`` (the paths of those rows in order, and the images that failed with their error). A failing image
never fails the partition. Shards are written to a temporary name and renamed, so a task that Dask reruns (after
a worker is lost) replaces a shard whole and a reader never sees half of one.

Results do not depend on the cluster: an image's embedding is bit-identical whichever worker, batch or partition
computes it (the library is deterministic and a batch is only a leading dimension).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

import dask.bag as db
from dask.delayed import Delayed, delayed
from distributed import Client, WorkerPlugin, get_worker

from . import AotVitError, Model

__all__ = ["ModelPlugin", "embed_paths", "image_paths", "load_embeddings", "model_on_worker", "register",
           "write_embeddings"]

PLUGIN_NAME = "aotvit"
"""Default plugin name: the key under which a worker keeps its model."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga")
"""File name endings :func:`image_paths` picks from a folder (the formats libaotvit decodes)."""


class ModelPlugin(WorkerPlugin):
    """Opens one :class:`aotvit.Model` in each worker when registered (and in workers that join later), closes it
    when the worker stops. Tasks get it with :func:`model_on_worker`.

    Args:
        model: compiled model name or hub repo id.
        weights: checkpoint file, folder or cached repo id, as seen from the workers (None: synthetic weights).
        threads: inference threads per worker; match ``threads_per_worker=1`` with the worker's cores.
        exif_transpose: EXIF orientation, as :class:`aotvit.Model`.
        name: plugin name; use different names to hold several models on the same workers.
    """

    def __init__(self, model: str, weights: Optional[Union[str, os.PathLike]] = None, *, threads: int = 1,
                 exif_transpose: bool = True, name: str = PLUGIN_NAME) -> None:
        self.model_name = model
        self.weights = None if weights is None else os.fspath(weights)
        self.threads = threads
        self.exif_transpose = exif_transpose
        self.name = name  # distributed uses the plugin's `name` attribute as its key in Worker.plugins
        self.model: Optional[Model] = None  # set on the worker's copy only; never pickled with a value

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["model"] = None  # a handle is valid only in the process that opened it
        return state

    def setup(self, worker: Any) -> None:
        """Called by the worker: opens the model (raises, and the registration reports it, if that fails)."""
        self.model = Model(self.model_name, self.weights, threads=self.threads, exif_transpose=self.exif_transpose)

    def teardown(self, worker: Any) -> None:
        """Called by the worker when it closes: releases the model."""
        if self.model is not None:
            self.model.close()
            self.model = None


def model_on_worker(name: str = PLUGIN_NAME) -> Model:
    """The model that :class:`ModelPlugin` ``name`` opened in the current worker (call it inside a task)."""
    worker = get_worker()
    plugin = worker.plugins.get(name)
    if not isinstance(plugin, ModelPlugin) or plugin.model is None:
        raise RuntimeError(f"no aotvit model named {name!r} on worker {worker.address}: register "
                           f"aotvit.dask.ModelPlugin(..., name={name!r}) with the client first")
    return plugin.model


def image_paths(source: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]], *,
                partition_size: int = 64, recursive: bool = True) -> db.Bag:
    """A bag of image paths: every image file under a folder (sorted; :data:`IMAGE_SUFFIXES`), or the given list,
    in partitions of ``partition_size`` paths (one shard each)."""
    if isinstance(source, (str, os.PathLike)):
        root = Path(source)
        if not root.is_dir():
            raise NotADirectoryError(f"{root} is not a folder")
        found = root.rglob("*") if recursive else root.glob("*")
        paths = sorted(str(p) for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise FileNotFoundError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {root}")
    else:
        paths = [os.fspath(p) for p in source]
    if partition_size < 1:
        raise ValueError(f"partition_size must be >= 1, not {partition_size}")
    return db.from_sequence(paths, partition_size=partition_size)


def _embed(model: Model, paths: List[str], output: str, batch_size: int
           ) -> Tuple[List[str], List[np.ndarray], List[Tuple[str, str]]]:
    """(paths that succeeded, their rows, [(path, error)]) for a list of paths, in batches."""
    done: List[str] = []
    rows: List[np.ndarray] = []
    failed: List[Tuple[str, str]] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        try:
            values = model(chunk)[output]
            done.extend(chunk)
            rows.extend(values)
        except AotVitError:
            # One bad image fails the whole batch call: redo the chunk image by image to keep the good ones.
            for path in chunk:
                try:
                    rows.append(model(path)[output][0])
                    done.append(path)
                except AotVitError as error:
                    failed.append((path, str(error)))
    return done, rows, failed


def _write_shard(paths: List[str], index: int, out_dir: str, plugin: str, output: Optional[str],
                 batch_size: int) -> Dict[str, Any]:
    model = model_on_worker(plugin)
    name = output or ("pooler_output" if "pooler_output" in model.output_shapes else model.output_names[0])
    if name not in model.output_shapes:
        raise ValueError(f"{model.name} has no output {name!r}; it has {list(model.output_names)}")
    done, rows, failed = _embed(model, list(paths), name, batch_size)
    array = np.stack(rows) if rows else np.empty((0,) + model.output_shapes[name], dtype=np.float32)
    stem = os.path.join(out_dir, f"part-{index:05d}")
    meta = {"model": model.name, "output": name, "shape": list(array.shape), "paths": done,
            "failed": [{"path": p, "error": e} for p, e in failed]}
    # Write both under temporary names, then rename: the .json (renamed last) marks a complete shard.
    pid = os.getpid()
    np.save(f"{stem}.npy.{pid}.tmp.npy", array)
    with open(f"{stem}.json.{pid}.tmp", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    os.replace(f"{stem}.npy.{pid}.tmp.npy", f"{stem}.npy")
    os.replace(f"{stem}.json.{pid}.tmp", f"{stem}.json")
    return {"shard": f"{stem}.npy", "images": len(done), "failed": len(failed),
            "worker": get_worker().address}


def write_embeddings(paths: db.Bag, out_dir: Union[str, os.PathLike], *, plugin: str = PLUGIN_NAME,
                     output: Optional[str] = None, batch_size: int = 16) -> List[Delayed]:
    """One lazy task per partition of ``paths``, writing shard ``part-<partition>`` into ``out_dir`` and returning
    ``{"shard", "images", "failed", "worker"}``. Compute them with ``client.compute(...)`` / ``dask.compute(...)`` on
    a cluster where :class:`ModelPlugin` ``plugin`` is registered.

    ``output``: the model output to store (default ``pooler_output`` where the model has one, else its first output,
    e.g. ``logits``); ``batch_size``: images per library call within a partition.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    target = os.fspath(out_dir)
    os.makedirs(target, exist_ok=True)
    return [delayed(_write_shard, pure=False)(part, i, target, plugin, output, batch_size)
            for i, part in enumerate(paths.to_delayed())]


def register(client: Client, plugin: ModelPlugin) -> None:
    """Registers ``plugin`` with the cluster: every current worker opens the model before this returns (a failure
    to open it is raised here), and workers that join later open it when they connect."""
    # distributed >= 2023.9 has register_plugin; Debian's 2022.12 has register_worker_plugin.
    if hasattr(client, "register_plugin"):
        client.register_plugin(plugin)
    else:
        client.register_worker_plugin(plugin, name=plugin.name)


def embed_paths(client: Client, paths: Union[db.Bag, str, os.PathLike, Sequence[Union[str, os.PathLike]]],
                out_dir: Union[str, os.PathLike], *, model: str, weights: Optional[Union[str, os.PathLike]] = None,
                threads: int = 1, output: Optional[str] = None, batch_size: int = 16, partition_size: int = 64,
                exif_transpose: bool = True) -> Dict[str, Any]:
    """Registers a :class:`ModelPlugin` on ``client``'s workers, embeds ``paths`` (a bag, a folder or a list) into
    shards in ``out_dir``, waits and returns ``{"images", "failed", "shards", "workers"}``. An existing shard
    with the same partition number is overwritten."""
    register(client, ModelPlugin(model, weights, threads=threads, exif_transpose=exif_transpose))
    bag = paths if isinstance(paths, db.Bag) else image_paths(paths, partition_size=partition_size)
    tasks = write_embeddings(bag, out_dir, output=output, batch_size=batch_size)
    results = client.gather(client.compute(tasks))
    return {"images": sum(r["images"] for r in results), "failed": sum(r["failed"] for r in results),
            "shards": len(results), "workers": sorted({r["worker"] for r in results})}


def load_embeddings(out_dir: Union[str, os.PathLike]) -> Tuple[List[str], np.ndarray]:
    """All shards of ``out_dir`` concatenated in partition order: (paths, rows). Rows of failed images are absent;
    each shard's ``.json`` lists them under ``failed``."""
    root = Path(out_dir)
    metas = sorted(root.glob("part-*.json"))
    if not metas:
        raise FileNotFoundError(f"no shards (part-*.json) in {root}")
    paths: List[str] = []
    arrays = []
    for meta_path in metas:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        array = np.load(meta_path.with_suffix(".npy"))
        if array.shape[0] != len(meta["paths"]):
            raise ValueError(f"{meta_path}: {len(meta['paths'])} paths but {array.shape[0]} rows")
        paths.extend(meta["paths"])
        arrays.append(array)
    return paths, np.concatenate(arrays)
