using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace AotVit.Generator.Helpers
{
    /// <summary>
    /// An equatable stand-in for <see cref="Diagnostic"/> (which holds a Location and is not cacheable):
    /// its descriptor, message arguments and a file position. Turned into a real Diagnostic only when reported.
    /// </summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, string FilePath, int Line, int Column, EquatableArray<string> Arguments)
    {
        public string Id => Descriptor.Id;

        public Diagnostic ToDiagnostic()
        {
            var position = new LinePosition(Math.Max(0, Line - 1), Math.Max(0, Column - 1));
            var location = Location.Create(FilePath, new TextSpan(0, 0), new LinePositionSpan(position, position));
            return Diagnostic.Create(Descriptor, location, Arguments.AsImmutableArray().ToArray());
        }
    }
}
