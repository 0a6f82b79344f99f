"""dask_embed.py: embed a folder of images on Dask workers (one model per worker) into .npy shards.

On this machine (a LocalCluster of worker processes):

    python3 dask_embed.py photos/ --out embeddings/ --workers 2 --weights google/vit-base-patch32-224-in21k

On several machines: start a scheduler and workers (each with aotvit installed, and the images, the weights and the
output folder at the same paths, e.g. on NFS), then point this script at the scheduler:

    machine A$ dask scheduler                                   # prints tcp://A:8786
    machine B$ dask worker tcp://A:8786 --nworkers 1 --nthreads 1
    machine C$ dask worker tcp://A:8786 --nworkers 1 --nthreads 1
    anywhere $ python3 dask_embed.py /nfs/photos --out /nfs/embeddings --scheduler tcp://A:8786 --threads 8

(``dask-scheduler`` / ``dask-worker`` in older distributed releases, such as Debian 12's 2022.12.) One thread per
worker and ``--threads`` = cores per worker: the library parallelises each inference itself. Workers that join later
open the model when they connect (the plugin is registered with the scheduler).

Prints images/s (model loading excluded: the plugin opens the model before the clock starts). Read the result with
``aotvit.dask.load_embeddings(out)``.
"""
from __future__ import annotations

import argparse
import time

from distributed import Client, LocalCluster

import aotvit.dask as ad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", help="folder of images (searched recursively)")
    parser.add_argument("--out", required=True, help="output folder for part-NNNNN.npy/.json shards")
    parser.add_argument("--model", default="vit-base-patch32-224-in21k", help="compiled model name or repo id")
    parser.add_argument("--weights", help="checkpoint file, folder or cached repo id (default: synthetic weights)")
    parser.add_argument("--output", help="model output to store (default: pooler_output, else logits)")
    parser.add_argument("--scheduler", help="address of a running scheduler (default: start a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="inference threads per worker (default 1)")
    parser.add_argument("--batch-size", type=int, default=16, help="images per library call (default 16)")
    parser.add_argument("--partition-size", type=int, default=64, help="images per shard (default 64)")
    args = parser.parse_args()

    cluster = None if args.scheduler else LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                                       processes=True, dashboard_address=":0")
    try:
        with Client(args.scheduler or cluster) as client:
            # Register first and time separately: opening ViT-B/32 takes seconds per worker.
            started = time.perf_counter()
            ad.register(client, ad.ModelPlugin(args.model, args.weights, threads=args.threads))
            loaded = time.perf_counter()
            bag = ad.image_paths(args.images, partition_size=args.partition_size)
            tasks = ad.write_embeddings(bag, args.out, output=args.output, batch_size=args.batch_size)
            results = client.gather(client.compute(tasks))
            elapsed = time.perf_counter() - loaded
            images = sum(r["images"] for r in results)
            failed = sum(r["failed"] for r in results)
            workers = sorted({r["worker"] for r in results})
            print(f"{images} images embedded ({failed} failed) into {len(results)} shards in {args.out} by "
                  f"{len(client.scheduler_info()['workers'])} workers ({len(workers)} did work): "
                  f"{elapsed:.1f} s, {images / elapsed:.2f} images/s (model load {loaded - started:.1f} s, excluded)")
    finally:
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
