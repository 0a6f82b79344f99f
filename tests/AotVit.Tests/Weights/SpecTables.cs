// The tensor tables of tests/AotVit.Tests/data/spec (tensors_vit.tsv, tensors_mobilevit.tsv), as test input.
using System.Collections.Immutable;
using System.Globalization;
using AotVit.Runtime.Weights;

namespace AotVit.Tests.Weights;

internal static class SpecTables
{
    /// <summary>
    /// Parses the tensor tables of tests/AotVit.Tests/data/spec (<c>tensors_vit.tsv</c>): one tensor per line,
    /// <c>name &lt;TAB&gt; [d0, d1, ...] &lt;TAB&gt; DTYPE</c>. Blank lines and lines starting with '#' are skipped.
    /// </summary>
    public static IReadOnlyList<TensorSpec> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var specs = new List<TensorSpec>();
        int lineNumber = 0;
        foreach (string rawLine in text.Split('\n'))
        {
            lineNumber++;
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string[] columns = line.Split('\t');
            if (columns.Length != 3)
            {
                throw new FormatException($"line {lineNumber}: expected 'name<TAB>[shape]<TAB>dtype', found {columns.Length} columns");
            }
            string shapeText = columns[1].Trim();
            if (shapeText.Length < 2 || shapeText[0] != '[' || shapeText[^1] != ']')
            {
                throw new FormatException($"line {lineNumber}: shape '{shapeText}' is not of the form [d0, d1, ...]");
            }
            string inner = shapeText[1..^1].Trim();
            var shape = ImmutableArray<long>.Empty;
            if (inner.Length > 0)
            {
                string[] dims = inner.Split(',');
                var builder = ImmutableArray.CreateBuilder<long>(dims.Length);
                foreach (string d in dims) builder.Add(long.Parse(d.Trim(), NumberStyles.None, CultureInfo.InvariantCulture));
                shape = builder.MoveToImmutable();
            }
            if (!DTypeExtensions.TryParseSafeTensorsName(columns[2].Trim(), out DType dtype))
            {
                throw new FormatException($"line {lineNumber}: unknown dtype '{columns[2].Trim()}'");
            }
            specs.Add(new TensorSpec(columns[0], shape, dtype));
        }
        return specs;
    }
}
