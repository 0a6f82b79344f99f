using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace AotVit.Generator.Helpers
{
    /// <summary>
    /// An equatable stand-in for <see cref="Diagnostic"/> (which holds a Location and is not cacheable):
    /// descriptor id, message arguments and a file position. Turned into a real Diagnostic only when reported.
    /// </summary>
    internal sealed record DiagnosticInfo(string Id, string FilePath, int Line, int Column, EquatableArray<string> Arguments)
    {
        public Diagnostic ToDiagnostic()
        {
            var descriptor = DiagnosticDescriptors.ById(Id);
            var position = new LinePosition(Math.Max(0, Line - 1), Math.Max(0, Column - 1));
            var location = Location.Create(FilePath, new TextSpan(0, 0), new LinePositionSpan(position, position));
            return Diagnostic.Create(descriptor, location, Arguments.AsImmutableArray().ToArray());
        }
    }
}
