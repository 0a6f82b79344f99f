#!/usr/bin/python3
"""Writes tools/hub-configs/<model>/{config.json,preprocessor_config.json} the way the Hugging Face hub holds them.

The hub files were written by transformers' save_pretrained: PretrainedConfig.to_json_string and
FeatureExtractionMixin.to_json_string are json.dumps(d, indent=2, sort_keys=True) + "\\n". sort_keys applies to
nested dicts too: id2label has int keys (sorted numerically, written as "0".."999"), label2id has str keys
(sorted by code point). label2id = {v: k for k, v in id2label.items()} as every conversion script builds it, so it
has 999 entries ("crane" is classes 134 and 517; the later one wins).

The ImageNet-1k class names are read from src/Graphs/mobilevit-small/config.json (its id2label is the
huggingface/label-files imagenet-1k-id2label.json list, which equals transformers' former
src/transformers/utils/imagenet_classes.py that the 2021 ViT and DeiT conversions imported).
Field values and where each comes from: tools/hub-configs/README.md.

Run: /usr/bin/python3 tools/hub-configs/reconstruct.py [--check]   (--check: compare with the files on disk)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def imagenet_id2label():
    with open(os.path.join(REPO, "src", "Graphs", "mobilevit-small", "config.json")) as f:
        id2label = json.load(f)["id2label"]
    assert len(id2label) == 1000
    return {int(k): v for k, v in id2label.items()}


def hf_json(d):
    return json.dumps(d, indent=2, sort_keys=True) + "\n"


def with_labels(config):
    id2label = imagenet_id2label()
    config = dict(config)
    config["id2label"] = id2label
    config["label2id"] = {v: k for k, v in id2label.items()}
    return config


def mobilevit(hidden_sizes, neck_hidden_sizes, expand_ratio, hidden_dropout_prob):
    # convert_mlcvnets_to_pytorch.py get_mobilevit_config on MobileViTConfig() defaults (transformers 4.20)
    return with_labels({
        "architectures": ["MobileViTForImageClassification"],
        "aspp_dropout_prob": 0.1, "aspp_out_channels": 256, "atrous_rates": [6, 12, 18],
        "attention_probs_dropout_prob": 0.0, "classifier_dropout_prob": 0.1, "conv_kernel_size": 3,
        "expand_ratio": expand_ratio, "hidden_act": "silu", "hidden_dropout_prob": hidden_dropout_prob,
        "hidden_sizes": hidden_sizes, "image_size": 256, "initializer_range": 0.02, "layer_norm_eps": 1e-05,
        "mlp_ratio": 2.0, "model_type": "mobilevit", "neck_hidden_sizes": neck_hidden_sizes,
        "num_attention_heads": 4, "num_channels": 3, "output_stride": 32, "patch_size": 2, "qkv_bias": True,
        "semantic_loss_ignore_index": 255, "torch_dtype": "float32", "transformers_version": "4.20.0.dev0",
    })


MOBILEVIT_PREPROCESSOR = {  # MobileViTFeatureExtractor(crop_size=image_size, size=image_size + 32), 187 bytes
    "crop_size": 256, "do_center_crop": True, "do_flip_channels": True, "do_resize": True,
    "feature_extractor_type": "MobileViTFeatureExtractor", "resample": 2, "size": 288,
}

MODELS = {
    "vit-base-patch16-224": (
        # convert_vit_timm_to_pytorch.py (2021), then the hub's "Add TF model" commit db75733 (4.13.0.dev0)
        with_labels({
            "_name_or_path": "google/vit-base-patch16-224",
            "architectures": ["ViTForImageClassification"],
            "attention_probs_dropout_prob": 0.0, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "hidden_size": 768, "image_size": 224, "initializer_range": 0.02, "intermediate_size": 3072,
            "layer_norm_eps": 1e-12, "model_type": "vit", "num_attention_heads": 12, "num_channels": 3,
            "num_hidden_layers": 12, "patch_size": 16, "qkv_bias": True, "transformers_version": "4.13.0.dev0",
        }),
        {"do_normalize": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
         "size": 224},
    ),
    "deit-small-distilled-patch16-224": (
        # convert_deit_timm_to_pytorch.py (April 2021, transformers 4.6.0.dev0)
        with_labels({
            "architectures": ["DeiTForImageClassificationWithTeacher"],
            "attention_probs_dropout_prob": 0.0, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "hidden_size": 384, "image_size": 224, "initializer_range": 0.02, "intermediate_size": 1536,
            "layer_norm_eps": 1e-12, "model_type": "deit", "num_attention_heads": 6, "num_channels": 3,
            "num_hidden_layers": 12, "patch_size": 16, "transformers_version": "4.6.0.dev0",
        }),
        {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
         "feature_extractor_type": "DeiTFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
         "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 256},
    ),
    "mobilevit-x-small": (
        mobilevit([96, 120, 144], [16, 32, 48, 64, 80, 96, 384], 4.0, 0.1), MOBILEVIT_PREPROCESSOR),
    "mobilevit-xx-small": (
        mobilevit([64, 80, 96], [16, 16, 24, 48, 64, 80, 320], 2.0, 0.05), MOBILEVIT_PREPROCESSOR),
}


def main(argv):
    check = "--check" in argv
    ok = True
    for folder, (config, preprocessor) in MODELS.items():
        for name, content in (("config.json", hf_json(config)), ("preprocessor_config.json", hf_json(preprocessor))):
            path = os.path.join(HERE, folder, name)
            data = content.encode("utf-8")
            if check:
                same = os.path.exists(path) and open(path, "rb").read() == data
                ok &= same
                print(f"{'ok  ' if same else 'DIFF'} {folder}/{name} ({len(data)} bytes)")
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
                print(f"wrote {folder}/{name} ({len(data)} bytes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
