using System;
using System.Globalization;
using System.Text;

namespace AotVit.Generator.Helpers
{
    /// <summary>
    /// Writes indented C#. <c>using (w.Block("if (x)")) { ... }</c> writes the header, an opening brace,
    /// indents, and closes the brace on dispose. Numbers are always formatted with the invariant culture.
    /// </summary>
    internal sealed class IndentedTextWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        public void Line(string text = "")
        {
            if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
            _sb.Append('\n');
        }

        public void Lines(string multiline)
        {
            foreach (var line in multiline.Replace("\r\n", "\n").Split('\n')) Line(line);
        }

        public Scope Block(string header)
        {
            Line(header);
            Line("{");
            _indent++;
            return new Scope(this);
        }

        public void Indent() => _indent++;
        public void Outdent() => _indent--;

        public override string ToString() => _sb.ToString();

        public static string F(float value)
        {
            if (float.IsNaN(value) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value));
            return value.ToString("R", CultureInfo.InvariantCulture) + "f";
        }

        public static string D(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        public static string I(long value) => value.ToString(CultureInfo.InvariantCulture);

        public readonly struct Scope : IDisposable
        {
            private readonly IndentedTextWriter _w;
            public Scope(IndentedTextWriter w) { _w = w; }
            public void Dispose() { _w._indent--; _w.Line("}"); }
        }
    }
}
