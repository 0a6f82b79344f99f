"""example.py: classify and embed one image through libaotvit from Python (samples/python/aotvit.py).

    python3 example.py <image> [--checkpoint-vit F] [--checkpoint-mobilevit F] [--dump-prefix P]

Without checkpoints both models use the synthetic weights (seed 0). --dump-prefix writes P.cls.f32 (logits)
and P.emb.f32 (last_hidden_state then pooler_output) as raw float32, for tools/native_check.sh.
Works with and without numpy.
"""
import argparse
import array
import math
import sys

import aotvit


def floats(values):
    """Flat list of Python floats from a numpy array or a list."""
    return values.reshape(-1).tolist() if hasattr(values, "reshape") else list(values)


def dump(path, *outputs):
    data = array.array("f")
    for output in outputs:
        data.extend(floats(output))
    with open(path, "wb") as f:
        data.tofile(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("image")
    parser.add_argument("--checkpoint-vit")
    parser.add_argument("--checkpoint-mobilevit")
    parser.add_argument("--dump-prefix")
    args = parser.parse_args()
    print(f"libaotvit {aotvit.version()}, numpy: {'yes' if aotvit._np is not None else 'no (lists)'}")

    with aotvit.Model("mobilevit-small", args.checkpoint_mobilevit) as classifier:
        logits, = classifier.run_image_file(args.image)
        print(f"{classifier.name}: {type(logits).__name__} of {len(floats(logits))} logits")
        for rank, (index, probability) in enumerate(classifier.top_k(logits, 5), 1):
            print(f"{rank}. {100 * probability:5.2f}%  logit {floats(logits)[index]:9.5f}  [{index:3d}] {classifier.labels[index]}")
        # Batching: preprocess images yourself, then run them in one call; the outputs get a batch dimension.
        pixels = classifier.preprocess_image_file(args.image)
        batch, = classifier.run_pixels(floats(pixels) * 2, batch=2)
        same = floats(batch)[:1000] == floats(logits) == floats(batch)[1000:]
        print(f"batch of 2 from preprocess_image_file + run_pixels equals run_image_file: {same}")
        if not same:
            sys.exit("batch result differs")
        try:
            classifier.run_image_bytes(open(args.image, "rb").read()[:100])
        except aotvit.AotVitError as e:
            print(f"truncated image -> {e}")

    with aotvit.Model("vit-base-patch32-224-in21k", args.checkpoint_vit) as embedder:
        hidden, pooled = embedder.run_image_file(args.image)
        cls = floats(hidden)[:768]
        pooled_list = floats(pooled)
        print(f"last_hidden_state {tuple(getattr(hidden, 'shape', (len(floats(hidden)),)))}: CLS[0:4] = "
              + " ".join(f"{x:.6f}" for x in cls[:4]) + f"  |CLS| = {math.sqrt(sum(x * x for x in cls)):.6f}")
        print(f"pooler_output: [0:4] = " + " ".join(f"{x:.6f}" for x in pooled_list[:4])
              + f"  |pooled| = {math.sqrt(sum(x * x for x in pooled_list)):.6f}")
        try:
            embedder.top_k(pooled_list[:768], 5)
        except aotvit.AotVitError as e:
            print(f"top_k on ViT -> {e}")

    if args.dump_prefix:
        dump(args.dump_prefix + ".cls.f32", logits)
        dump(args.dump_prefix + ".emb.f32", hidden, pooled)


if __name__ == "__main__":
    main()
