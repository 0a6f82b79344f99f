namespace AotVit.Runtime.Imaging;

/// <summary>
/// The Pillow resampling filters the preprocessing reproduces. The values are Pillow's (and so Hugging Face's
/// <c>resample</c> in preprocessor_config.json): 2 = <c>Image.BILINEAR</c>, 3 = <c>Image.BICUBIC</c>.
/// </summary>
public enum ResampleFilter
{
    /// <summary>Pillow's triangle filter: k(t) = max(0, 1 − |t|), support 1 (libImaging/Resample.c bilinear_filter).</summary>
    Bilinear = 2,

    /// <summary>Pillow's cubic convolution with a = −0.5, support 2 (libImaging/Resample.c bicubic_filter).</summary>
    Bicubic = 3,
}

/// <summary>Helpers for <see cref="ResampleFilter"/>.</summary>
public static class ResampleFilters
{
    internal static bool IsDefined(ResampleFilter filter) => filter is ResampleFilter.Bilinear or ResampleFilter.Bicubic;

    internal static void ThrowIfUndefined(ResampleFilter filter, string parameterName)
    {
        if (!IsDefined(filter))
        {
            throw new ArgumentOutOfRangeException(parameterName, (int)filter, "Only Pillow's BILINEAR (2) and BICUBIC (3) are supported.");
        }
    }

    /// <summary>Name as Pillow spells it (no enum formatting: it keeps reflection metadata in NativeAOT builds).</summary>
    public static string Name(this ResampleFilter filter) => filter switch
    {
        ResampleFilter.Bilinear => "BILINEAR",
        ResampleFilter.Bicubic => "BICUBIC",
        _ => "resample " + ((int)filter).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
