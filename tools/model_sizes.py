#!/usr/bin/python3
"""What each compiled model adds to a NativeAOT binary, from ILC's map file and the generated sources.

    dotnet publish src/Cli -c Release -o /tmp/pub -p:IlcGenerateMapFile=true
    /usr/bin/python3 tools/model_sizes.py src/Cli/obj/Release/net10.0/linux-x64/native/aotvit.map.xml

Per model (one generated class AotVit.Models.<Class>, from src/AotVit/obj/generated/...):
  code      every map node named after the class (MethodCode, GCInfo, EEType, helpers, ...)
  table     its u8 literals (tensor names, tensor shapes) that no other model holds: FieldRvaData nodes named after
            the SHA-256 of the literal's bytes
  strings   its UTF-16 string literals that no other model uses (frozen string objects: 8-byte type pointer,
            4-byte length, 2 bytes per char and a terminator, 8-byte aligned; an estimate, the map names no literal)
  calib     its embedded BatchNorm calibration (src/Graphs/<folder>/synthetic-bn-calibration.safetensors)
Shared data is not counted for any one model: u8 literals two models both hold (identical label lists are one
literal) and strings several models use are paid once, by whichever of them is compiled in.
The sum is the size removing only that model saves, to within section alignment: checked by publishing without a folder.
"""
import glob
import hashlib
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATED = os.path.join(REPO, "src", "AotVit", "obj", "generated", "AotVit.Generator", "AotVit.Generator.ModelGenerator")
U8 = r'"((?:[^"\\]|\\.)*)"u8'


def u8_groups(source):
    """Each concatenation of u8 literals ("a"u8 + "b"u8 + ...) as the bytes the compiler stores."""
    for m in re.finditer(r'(?:"(?:[^"\\]|\\.)*"u8\s*\+?\s*(?://[^\n]*\n\s*)?)+', source):
        parts = re.findall(U8, m.group(0))
        yield "".join(parts).encode("utf-8").decode("unicode_escape").encode("latin-1")


def string_literals(source):
    s = re.sub(U8, "", source)
    s = re.sub(r"//[^\n]*", "", s)
    return set(re.findall(r'(?<![\w@$])"((?:[^"\\]|\\.)*)"', s))


def frozen_string_bytes(text):
    return (8 + 4 + 2 * (len(text) + 1) + 7) // 8 * 8


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    nodes = [(k, n, int(l)) for k, n, l in re.findall(r'<(\w+) Name="([^"]*)" Length="(\d+)"', open(argv[1]).read())]
    rva = {}
    for kind, name, length in nodes:
        m = re.search(r"PrivateImplementationDetails_+([0-9A-F]{64})$", name)
        if kind == "FieldRvaData" and m:
            rva[m.group(1)] = length
    resources = {}
    for path in glob.glob(os.path.join(REPO, "src", "Graphs", "*", "synthetic-bn-calibration.safetensors")):
        resources[os.path.basename(os.path.dirname(path))] = os.path.getsize(path)

    models = {}
    for path in sorted(glob.glob(os.path.join(GENERATED, "*.g.cs"))):
        source = open(path, encoding="utf-8-sig").read()
        cls = re.search(r"public sealed unsafe partial class (\w+) : IGeneratedModel", source)
        if not cls:
            continue
        folder = re.search(r'public const string ModelName = "([^"]+)"', source).group(1)
        # The compiler stores a u8 literal with a terminating NUL and names its field after the SHA-256 of those bytes.
        tables = [hashlib.sha256(b + b"\0").hexdigest().upper() for b in u8_groups(source)]
        models[cls.group(1)] = dict(folder=folder, tables=tables, strings=string_literals(source))
    if not models:
        sys.exit(f"no generated models under {GENERATED}: build src/AotVit first")

    total_models = 0
    print(f"{'model':34s}{'code':>8s}{'table':>8s}{'strings':>9s}{'calib':>8s}{'adds':>9s}")
    for cls, m in models.items():
        others = [o for c, o in models.items() if c != cls]
        code = sum(l for k, n, l in nodes if re.search(rf"_Models_{cls}(_|$)", n))
        shared_tables = {t for o in others for t in o["tables"]}
        table = sum(rva.get(t, 0) for t in set(m["tables"]) - shared_tables)
        shared_strings = set().union(*(o["strings"] for o in others)) if others else set()
        strings = sum(frozen_string_bytes(s) for s in m["strings"] - shared_strings)
        calib = resources.get(m["folder"], 0)
        adds = code + table + strings + calib
        total_models += adds
        print(f"{m['folder']:34s}{code:8d}{table:8d}{strings:9d}{calib:8d}{adds:9d}")
    print(f"{'sum':34s}{'':33s}{total_models:9d}")


if __name__ == "__main__":
    main(sys.argv)
