#!/usr/bin/python3
"""Folder throughput: `aotvit classify DIR` against Pillow + HF preprocessing + ONNX Runtime doing the same work (issue 18).

    /usr/bin/python3 tools/folder_bench.py [--n 1000] [--rounds 2] [--threads 2] [--md docs/bench/folder.md] [--no-build]

The folder (made once, seeded, into artifacts/folder_bench/photos_N/): N photo-like files, mostly JPEG (Pillow,
quality 80-95, 4:2:0; every 10th with an EXIF orientation), 7 % PNG, sizes drawn from 640x480 (40 %), 1280x960 (30 %),
1920x1080 (20 %), 4032x3024 (10 %, phone photos), each side scaled by 0.85, 0.9, 0.95 or 1, half of them portrait.
Both sides classify every file with MobileViT-S (seed-0 synthetic checkpoint, the same weights in both engines) and
use both cores: rounds alternate the two sides, each side's wall time is its median over the rounds.
  aot-vit   the NativeAOT CLI as shipped (tools/publish.sh's x86-64-v4 build, or `dotnet publish src/Cli` here):
            `aotvit classify DIR --weights CKPT --threads T --format jsonl -o OUT` (decoder threads overlap the model).
  Pillow    a multiprocessing.Pool of T processes decodes and preprocesses (transformers' load_image + the slow
  + ORT     image processor, as tools/jpeg_bench.py), in input order, while ONNX Runtime 1.31.1 (T intra-op threads, in
            bench/AotVit.Bench --jpeg-serve, the C# package the bench harness uses) runs batches of 8 as they come.
Reported: images/s, CPU seconds (user + sys of the process tree), peak RSS (the largest process), and whether both
sides give every file the same top-1 class.
"""
import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jpeg_bench as jb  # noqa: E402  (its photo maker, HF preprocessing and ONNX export)

ROOT = jb.ROOT
ART = os.path.join(ROOT, "artifacts", "folder_bench")
MODEL = "mobilevit-small"
BATCH = 8


def log(*m):
    print("folder_bench:", *m, file=sys.stderr, flush=True)


def make_folder(n):
    folder = os.path.join(ART, "photos_%d" % n)
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        return folder
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(18)
    sizes = [(640, 480, 0.4), (1280, 960, 0.3), (1920, 1080, 0.2), (4032, 3024, 0.1)]
    base = {}
    for i in range(n):
        r, acc = rng.rand(), 0.0
        for w, h, p in sizes:
            acc += p
            if r < acc:
                break
        w, h = int(w * rng.choice([0.85, 0.9, 0.95, 1.0])), int(h * rng.choice([0.85, 0.9, 0.95, 1.0]))
        if rng.rand() < 0.5:
            w, h = h, w
        key = (w, h)
        if key not in base:
            base[key] = jb.make_photo(w, h, len(base))
        img = base[key]
        # Vary the content per file: a shifted crop of the cached canvas plus fresh noise.
        dy, dx = rng.randint(0, 8), rng.randint(0, 8)
        img = np.roll(np.roll(img, dy, axis=0), dx, axis=1).astype(np.int16)
        img += rng.randint(-2, 3, size=(1, 1, 3)).astype(np.int16)
        im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        if i % 14 == 13:
            im.save(os.path.join(folder, "img_%05d.png" % i), "PNG", compress_level=3)
        else:
            kw = dict(quality=int(rng.choice([80, 85, 90, 95])), subsampling=2)
            if i % 10 == 3:
                e = Image.Exif()
                e[0x0112] = int(rng.choice([3, 6, 8]))
                kw["exif"] = e.tobytes()
            im.save(os.path.join(folder, "img_%05d.jpg" % i), "JPEG", **kw)
        if i % 100 == 99:
            log("made %d/%d files" % (i + 1, n))
    open(done, "w").close()
    return folder


def files_of(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".jpg", ".png")))


def aotvit_binary(no_build):
    for p in (os.path.join(ROOT, "artifacts", "publish", "cli-x86-64-v4", "aotvit"),
              os.path.join(ART, "cli", "aotvit")):
        if no_build and os.path.exists(p):
            return p
    out = os.path.join(ART, "cli")
    log("publishing src/Cli with NativeAOT into", os.path.relpath(out, ROOT))
    subprocess.run(["dotnet", "publish", os.path.join(ROOT, "src", "Cli"), "-c", "Release", "-v", "q", "-nologo", "-o", out],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "aotvit")


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time -v: (wall s, cpu s, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, check=True, **kw)
        wall = time.perf_counter() - t0
        info = {}
        for line in open(tf.name):
            if ":" in line:
                k, v = line.rsplit(":", 1)
                info[k.strip()] = v.strip()
    cpu = float(info["User time (seconds)"]) + float(info["System time (seconds)"])
    return wall, cpu, int(info["Maximum resident set size (kbytes)"]) / 1024


def ours(binary, ckpt, folder, threads, out):
    wall, cpu, rss = timed([binary, "classify", folder, "--weights", ckpt, "--threads", str(threads),
                            "--format", "jsonl", "-o", out], stdout=subprocess.DEVNULL)
    top1 = {}
    for line in open(out):
        r = json.loads(line)
        if "top" in r:
            top1[os.path.basename(r["image"])] = r["top"][0]["index"]
    return wall, cpu, rss, top1


_CFG = None


def _pre(path):
    return jb.hf_preprocess(path, _CFG).astype(np.float32)


def _init(cfg):
    global _CFG
    _CFG = cfg


def pillow_ort_child(args):
    """--child THREADS LISTFILE OUTJSON: the Pillow + ORT side in a fresh process (so /usr/bin/time sees its tree)."""
    threads, listfile, outjson = int(args[0]), args[1], args[2]
    paths = [l.rstrip("\n") for l in open(listfile)]
    cfg = jb.config(MODEL)
    srv = jb.Server()
    top1 = {}
    ort_ms = 0.0
    with tempfile.TemporaryDirectory() as tmp, multiprocessing.Pool(threads, initializer=_init, initargs=(cfg,)) as pool:
        batch, names = [], []
        pix = os.path.join(tmp, "batch.f32")

        def flush():
            nonlocal ort_ms
            np.concatenate(batch).tofile(pix)
            r = srv.ask("ortbatch %d %s" % (threads, pix))
            ort_ms += float(r[0])
            for name, c in zip(names, r[1].split(",")):
                top1[name] = int(c)
            batch.clear()
            names.clear()

        for path, x in zip(paths, pool.imap(_pre, paths, chunksize=1)):
            batch.append(x)
            names.append(os.path.basename(path))
            if len(batch) == BATCH:
                flush()
        if batch:
            flush()
    srv.close()
    json.dump({"top1": top1, "ort_ms": ort_ms}, open(outjson, "w"))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        pillow_ort_child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--md", help="also write the markdown report here (e.g. docs/bench/folder.md)")
    ap.add_argument("--no-build", action="store_true", help="use existing builds of aotvit and bench/AotVit.Bench")
    a = ap.parse_args()

    folder = make_folder(a.n)
    paths = files_of(folder)
    binary = aotvit_binary(a.no_build)
    if not a.no_build or not os.path.exists(jb.BENCH_EXE):
        log("building bench/AotVit.Bench (Release)")
        subprocess.run(["dotnet", "build", jb.BENCH_DIR, "-c", "Release", "-v", "q", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(jb.ONNX, "mobilevit-small.onnx")):
        log("exporting MobileViT-S to ONNX (tools/reference.py, seed 0)")
        subprocess.run([sys.executable, "-c", jb.EXPORT], check=True, cwd=ROOT)
    ckpt = os.path.join(jb.CACHE, MODEL, "model.safetensors")
    if not os.path.exists(ckpt):
        os.makedirs(os.path.dirname(ckpt), exist_ok=True)
        subprocess.run([binary, "make-weights", MODEL, ckpt], check=True, stdout=subprocess.DEVNULL)

    mp = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in paths) / 1e6
    load_start = open("/proc/loadavg").read().split()[:3]
    runs = {"aot-vit": [], "Pillow + ORT": []}
    tops = {}
    with tempfile.TemporaryDirectory() as tmp:
        listfile = os.path.join(tmp, "files.txt")
        open(listfile, "w").write("\n".join(paths) + "\n")
        for r in range(a.rounds):
            order = ["aot-vit", "Pillow + ORT"] if r % 2 == 0 else ["Pillow + ORT", "aot-vit"]
            for side in order:
                log("round %d/%d: %s" % (r + 1, a.rounds, side))
                if side == "aot-vit":
                    wall, cpu, rss, top1 = ours(binary, ckpt, folder, a.threads, os.path.join(tmp, "out.jsonl"))
                    runs[side].append((wall, cpu, rss, None))
                else:
                    out = os.path.join(tmp, "pillow.json")
                    wall, cpu, rss = timed([sys.executable, os.path.abspath(__file__), "--child", str(a.threads), listfile, out])
                    res = json.load(open(out))
                    top1 = res["top1"]
                    runs[side].append((wall, cpu, rss, res["ort_ms"] / 1e3))
                tops[side] = top1
    load_end = open("/proc/loadavg").read().split()[:3]
    same = sum(1 for k, v in tops["aot-vit"].items() if tops["Pillow + ORT"].get(k) == v)

    out = []
    w = out.append
    w("# Folder throughput: `aotvit classify DIR` vs Pillow + HF preprocessing + ONNX Runtime")
    w("")
    w("`/usr/bin/python3 tools/folder_bench.py --n %d --rounds %d --threads %d`; %s, %d cores; load average %s at the start, "
      "%s at the end (shared host: compare the two sides of one run)." % (a.n, a.rounds, a.threads, platform.machine(), os.cpu_count(),
                                                                         " ".join(load_start), " ".join(load_end)))
    w("")
    w("Folder: %d files (%d JPEG, %d PNG), %.0f megapixels in all (mean %.2f MP), made by the script. MobileViT-S, seed-0 "
      "synthetic checkpoint in both engines; %d threads each side (aot-vit: model threads, its decoder threads overlap them; "
      "Pillow + ORT: %d decoding processes, ORT intra-op threads), batches of %d for ORT, the CLI's default batch for aot-vit."
      % (len(paths), sum(p.endswith(".jpg") for p in paths), sum(p.endswith(".png") for p in paths), mp, mp / len(paths),
         a.threads, a.threads, BATCH))
    w("")
    w("| side | wall s (median of %d) | images/s | MP/s | CPU s (user+sys) | peak RSS MiB | ORT inference s |" % a.rounds)
    w("|---|---:|---:|---:|---:|---:|---:|")
    med = {}
    for side, rs in runs.items():
        wall = statistics.median(x[0] for x in rs)
        med[side] = wall
        cpu = statistics.median(x[1] for x in rs)
        rss = max(x[2] for x in rs)
        ort = "%.1f" % statistics.median(x[3] for x in rs) if rs[0][3] is not None else "—"
        w("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %s |" % (side, wall, len(paths) / wall, mp / wall, cpu, rss, ort))
    w("")
    w("aot-vit is **%.2f×** the throughput of Pillow + ORT in this run; top-1 class equal on %d of %d files."
      % (med["Pillow + ORT"] / med["aot-vit"], same, len(paths)))
    w("Peak RSS of Pillow + ORT is its largest process (the ORT host or one decoding worker), not their sum.")
    md = "\n".join(out) + "\n"
    print(md)
    if a.md:
        os.makedirs(os.path.dirname(os.path.join(ROOT, a.md)), exist_ok=True)
        open(os.path.join(ROOT, a.md), "w").write(md)
        log("wrote", a.md)


if __name__ == "__main__":
    main()
