// What a handle stands for: the managed model plus the NUL-terminated UTF-8 strings the C API hands out
// (name, output names, labels, the int8 quantization report). The strings live in pinned arrays owned by this object, so their pointers stay
// valid until the handle is destroyed and the GC reclaims them afterwards: nothing to free by hand.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime.Model;

namespace AotVit.Native;

internal sealed unsafe class NativeModel : IDisposable
{
    private readonly byte[] _name;
    private readonly byte[][] _outputNames;
    private readonly byte[][] _labels;
    private readonly byte[] _quantizationReport;

    public NativeModel(VisionModel model)
    {
        Model = model;
        _name = Utf8(model.Descriptor.Name);
        _outputNames = model.Descriptor.Outputs.Select(o => Utf8(o.Name)).ToArray();
        _labels = (model.Descriptor.Labels ?? []).Select(Utf8).ToArray();
        // int8: the report's one-line ToString(); float32: "".
        _quantizationReport = Utf8(model.QuantizationReport?.ToString() ?? "");
    }

    public VisionModel Model { get; }
    public ModelDescriptor Descriptor => Model.Descriptor;
    public ImageClassifier? Classifier => Model as ImageClassifier;

    public byte* Name => Pointer(_name);
    public byte* OutputName(int index) => Pointer(_outputNames[index]);
    public int LabelCount => _labels.Length;
    public byte* Label(int index) => Pointer(_labels[index]);
    public byte* QuantizationReport => Pointer(_quantizationReport);

    public void Dispose() => Model.Dispose();

    private static byte[] Utf8(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var bytes = GC.AllocateArray<byte>(n + 1, pinned: true);
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    private static byte* Pointer(byte[] pinned) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
