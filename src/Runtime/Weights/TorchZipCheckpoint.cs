// TorchZipCheckpoint: a `pytorch_model.bin` as torch.save writes it since torch 1.6 (a zip of `<folder>/data.pkl`, the
// state dict's pickle, and one stored entry `<folder>/data/<key>` per storage). The pickle is read as data by
// TorchPickle (nothing is imported or called); each tensor becomes a contiguous view of a storage entry, checked to lie
// inside that entry's bytes, and is read from the file by position like a safetensors tensor. Several tensors may share
// one storage. Everything is validated before the checkpoint exists.
namespace AotVit.Runtime.Weights;

internal sealed class TorchZipCheckpoint : Checkpoint
{
    private TorchZipCheckpoint(ByteSource source, List<Located> tensors, bool owned)
        : base(source.Name, "PyTorch zip (torch.save)", tensors, new Dictionary<string, string>(), [], owned ? [source] : [])
    {
    }

    /// <summary>Validates the torch zip in <paramref name="source"/>; disposes the source with the checkpoint when
    /// <paramref name="owned"/>.</summary>
    public static TorchZipCheckpoint Open(ByteSource source, CheckpointLimits? limits, bool owned)
    {
        limits ??= CheckpointLimits.Default;
        string file = source.Name;
        ZipArchiveIndex zip = ZipArchiveIndex.Read(source, limits, names =>
        {
            // What torch.load itself checks to tell a TorchScript archive from a torch.save file.
            if (AnyEndsWith(names, "/constants.pkl"))
            {
                throw new CheckpointException(
                    "this is a TorchScript archive (torch.jit.save), a compiled program rather than weights; save the weights with " +
                    "torch.save(model.state_dict(), 'pytorch_model.bin') or as safetensors", file);
            }
        });

        string? pickleName = null;
        foreach (ZipArchiveIndex.Entry entry in zip.Entries)
        {
            // data.pkl directly inside one top-level folder, whatever its name (torch uses the file's base name).
            int slash = entry.Name.IndexOf('/');
            if (slash > 0 && entry.Name.AsSpan(slash + 1).SequenceEqual("data.pkl"))
            {
                if (pickleName is not null)
                {
                    throw new CheckpointException($"the zip archive holds two pickles, '{pickleName}' and '{entry.Name}'; torch.save writes one", file);
                }
                pickleName = entry.Name;
            }
        }
        if (pickleName is null)
        {
            throw new CheckpointException(
                "this zip archive has no '<folder>/data.pkl' entry, so it is not a torch.save checkpoint", file);
        }
        string folder = pickleName[..^"data.pkl".Length];   // ends with '/'

        if (zip.TryGet(folder + "byteorder", out ZipArchiveIndex.Entry byteOrder))
        {
            Span<byte> text = stackalloc byte[16];
            if (byteOrder.Size > text.Length || !IsLittle(source, byteOrder, text))
            {
                throw new CheckpointException(
                    "the checkpoint was saved on a big-endian machine (its 'byteorder' entry is not 'little'); load and save it again with torch on a little-endian machine", file);
            }
        }

        zip.TryGet(pickleName, out ZipArchiveIndex.Entry pickleEntry);
        if (pickleEntry.Size > limits.MaxHeaderBytes)
        {
            throw new CheckpointException(
                $"'{pickleName}' is {pickleEntry.Size} bytes, more than the limit of {limits.MaxHeaderBytes} (CheckpointLimits.MaxHeaderBytes)", file);
        }
        byte[] pickle = new byte[pickleEntry.Size];
        source.ReadExactly(pickleEntry.DataOffset, pickle);
        List<(string Name, TorchPickle.TensorView Tensor)> views = TorchPickle.ReadStateDict(pickle, file, limits);

        var located = new List<Located>(views.Count);
        foreach (var (name, view) in views)
        {
            TorchPickle.Storage storage = view.Storage;
            string entryName = folder + "data/" + storage.Key;
            if (!zip.TryGet(entryName, out ZipArchiveIndex.Entry data))
            {
                throw new CheckpointException($"its storage '{storage.Key}' has no entry '{entryName}' in the zip archive (an incomplete or damaged file)", file, name);
            }
            int size = storage.DType.SizeInBytes();
            long storageBytes, viewStart, viewBytes;
            try
            {
                storageBytes = checked(storage.Numel * size);
                viewStart = checked(view.Offset * size);
                viewBytes = checked(view.ElementCount * size);
                _ = checked(viewStart + viewBytes);
            }
            catch (OverflowException)
            {
                throw new CheckpointException(
                    $"its view ({view.ElementCount} elements from element {view.Offset}) or its storage '{storage.Key}' ({storage.Numel} elements) overflows a 64-bit byte count", file, name);
            }
            if (data.Size != storageBytes)
            {
                throw new CheckpointException(
                    $"its storage '{storage.Key}' is declared as {storage.Numel} x {storage.DType.ToSafeTensorsName()} = {storageBytes} bytes, but entry '{entryName}' holds {data.Size} bytes (a damaged file)", file, name);
            }
            if (viewStart > storageBytes || viewBytes > storageBytes - viewStart)
            {
                throw new CheckpointException(
                    $"its {ShapeFormat.Format(view.Shape)} {storage.DType.ToSafeTensorsName()} view from element {view.Offset} ends past its storage '{storage.Key}' of {storage.Numel} elements", file, name);
            }
            long offset = data.DataOffset + viewStart;   // both inside the file: no overflow
            // ImmutableArray.Create copies the shape as [.. view.Shape] does, without the LINQ ToArray<long> the
            // compiler makes of that spread (the executables' only LINQ use).
            var info = new TensorInfo(name, storage.DType, System.Collections.Immutable.ImmutableArray.Create(view.Shape), offset, viewBytes);
            located.Add(new Located(info, source, offset));
        }
        return new TorchZipCheckpoint(source, located, owned);
    }

    private static bool IsLittle(ByteSource source, ZipArchiveIndex.Entry entry, Span<byte> buffer)
    {
        Span<byte> text = buffer[..(int)entry.Size];
        source.ReadExactly(entry.DataOffset, text);
        return text.SequenceEqual("little"u8);
    }

    private static bool AnyEndsWith(IReadOnlyList<string> names, string suffix)
    {
        foreach (string n in names) if (n.EndsWith(suffix, StringComparison.Ordinal)) return true;
        return false;
    }
}

