// Element types of the safetensors format and their sizes and names. This file knows nothing about JSON or files.
namespace AotVit.Runtime.Weights;

/// <summary>The element types aot-vit reads and writes (a subset of the safetensors dtypes).</summary>
public enum DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool }

/// <summary>Sizes and safetensors names of <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Size of one element in bytes.</summary>
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        DType.I8 or DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), (int)dtype, "not a DType"),
    };

    /// <summary>True for F64, F32, F16 and BF16: the types <see cref="SafeTensorsFile.GetFloats(TensorInfo)"/> accepts.</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.F64 or DType.F32 or DType.F16 or DType.BF16;

    /// <summary>The name used in a safetensors header ("F32", "BF16", "BOOL", ...).</summary>
    public static string ToSafeTensorsName(this DType dtype) => dtype switch
    {
        DType.F64 => "F64",
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        DType.I64 => "I64",
        DType.I32 => "I32",
        DType.I16 => "I16",
        DType.I8 => "I8",
        DType.U8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), (int)dtype, "not a DType"),
    };

    /// <summary>
    /// The member name ("F32", "Bool"), as <c>dtype.ToString()</c> gives it, spelled out: formatting an enum value keeps
    /// the reflection metadata for enums in NativeAOT executables.
    /// </summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.F64 => nameof(DType.F64),
        DType.F32 => nameof(DType.F32),
        DType.F16 => nameof(DType.F16),
        DType.BF16 => nameof(DType.BF16),
        DType.I64 => nameof(DType.I64),
        DType.I32 => nameof(DType.I32),
        DType.I16 => nameof(DType.I16),
        DType.I8 => nameof(DType.I8),
        DType.U8 => nameof(DType.U8),
        DType.Bool => nameof(DType.Bool),
        _ => ((int)dtype).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Parses a safetensors dtype name (case-sensitive, as the format defines it).</summary>
    public static bool TryParseSafeTensorsName(string name, out DType dtype)
    {
        switch (name)
        {
            case "F64": dtype = DType.F64; return true;
            case "F32": dtype = DType.F32; return true;
            case "F16": dtype = DType.F16; return true;
            case "BF16": dtype = DType.BF16; return true;
            case "I64": dtype = DType.I64; return true;
            case "I32": dtype = DType.I32; return true;
            case "I16": dtype = DType.I16; return true;
            case "I8": dtype = DType.I8; return true;
            case "U8": dtype = DType.U8; return true;
            case "BOOL": dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>
    /// Dtypes that the safetensors format defines but aot-vit does not support; used only to make
    /// the error message say "not supported" instead of "unknown".
    /// </summary>
    internal static bool IsKnownUnsupportedName(string name) => name is
        "U16" or "U32" or "U64" or "C64" or "F8_E4M3" or "F8_E5M2" or "F8_E8M0" or "F6_E2M3" or "F6_E3M2" or "F4";
}
